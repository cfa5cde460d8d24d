"""Development tools that the tests, the benchmarks, the demo and a sandbox share; never shipped.

- `account`: the account, Region and function ARN every fake estate uses;
- `connect_storage`: Amazon Connect's instance storage-config APIs, added to moto;
- `server`: an embedded moto server on 127.0.0.1;
- `world`: a small Connect estate (instances with service roles, buckets, a topic and a queue) on moto;
- `events`: the sample events of events/, loaded by name with a bucket and an instance of one's own;
- `botocore_hooks`: counts, faults and throttling at botocore's hooks;
- `cfn`: template.yaml evaluated as CloudFormation deploys it for given parameters.

The wheel and the Lambda layer hold only connect_lockdown; nothing here reaches real AWS.
"""
