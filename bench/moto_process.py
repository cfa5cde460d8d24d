"""A moto server on loopback in a process of its own (in-process, its request handling would share the code under
test's GIL), and Connect estates of any size written directly on its backends (the estate of devtools/world.py,
without six requests per instance of set-up). Protocol: one JSON object per line each way; the first line out is
{"endpoint": URL}.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"
REGION = "us-east-1"
RESOURCE_TYPES = ("CALL_RECORDINGS", "CHAT_TRANSCRIPTS")


def build_estate(endpoint: str, command: dict[str, Any]) -> dict[str, Any]:
    """Reset the server, then a World (topic, queue, enforcer role) and the instances the command asks for."""
    import boto3
    from moto.s3.models import s3_backends

    from connect_lockdown import policy as policies
    from devtools.server import reset
    from devtools.world import World

    reset(endpoint)
    world = World(boto3.session.Session(), endpoint_url=endpoint).setup()
    s3 = s3_backends[ACCOUNT]["global"]
    specs = command.get("instances")
    if specs is None:
        specs = [
            {"alias": f"contact-centre-{i:04d}", "bucket": f"amazon-connect-{i:012d}"}
            for i in range(int(command["count"]))
        ]
    # Buckets no Connect instance uses: the sweep's search for orphaned locks reads each one's policy.
    for index in range(int(command.get("other_buckets", 0))):
        s3.create_bucket(f"unrelated-bucket-{index:04d}", REGION)
    instances = [add_instance(spec) for spec in specs]
    if command.get("locked"):
        # The steady state: what the enforcer itself writes (a sweep over it finds every bucket compliant).
        roles: dict[str, set[str]] = {}
        for instance in instances:
            for bucket in instance["buckets"]:
                roles.setdefault(bucket, set()).add(instance["role_id"])
        for bucket, role_ids in roles.items():
            patterns = {ACCOUNT, f"{world.enforcer_role_id}:*"} | {f"{role_id}:*" for role_id in role_ids}
            statement = policies.lockdown_statement(
                bucket, "aws", patterns, enforcer_arn=world.enforcer_role_arn, exempt_aws_services=True
            )
            s3.put_bucket_policy(bucket, policies.serialise(policies.merge(None, statement, "preserve")).encode())
    return {
        "topic_arn": world.topic_arn,
        "queue_url": world.queue_url,
        "enforcer_role_arn": world.enforcer_role_arn,
        "enforcer_role_id": world.enforcer_role_id,
        "instances": instances,
    }


def add_instance(spec: dict[str, Any]) -> dict[str, Any]:
    """One instance with its own service role: `bucket` holds its call recordings and chat transcripts, `extra`
    lists more [bucket, resource type] pairs (several instances may share a bucket)."""
    from moto.connect.models import connect_backends
    from moto.iam.models import iam_backends
    from moto.s3.models import s3_backends

    from devtools import connect_storage
    from devtools.world import TRUST_CONNECT

    connect = connect_backends[ACCOUNT][REGION]
    iam = iam_backends[ACCOUNT]["global"]
    s3 = s3_backends[ACCOUNT]["global"]
    created = connect.create_instance("CONNECT_MANAGED", True, True, instance_alias=spec["alias"])
    role = iam.create_role(
        role_name=f"AWSServiceRoleForAmazonConnect_{uuid.uuid4().hex[:12]}",
        assume_role_policy_document=TRUST_CONNECT,
        path="/aws-service-role/connect.amazonaws.com/",
        permissions_boundary=None,
        description="",
        tags=[],
        max_session_duration=None,
    )
    connect_storage.set_service_role(created["Id"], role.arn, account_id=ACCOUNT, region=REGION)
    bucket = spec.get("bucket")
    associations = [(bucket, t) for t in RESOURCE_TYPES] if bucket else []
    associations += [(b, t) for b, t in spec.get("extra", [])]
    for name, resource_type in associations:
        if name not in s3.buckets:
            s3.create_bucket(name, REGION)
        connect.associate_instance_storage_config(  # type: ignore[attr-defined]
            created["Id"],
            resource_type,
            {
                "StorageType": "S3",
                "S3Config": {"BucketName": name, "BucketPrefix": f"connect/{spec['alias']}/{resource_type}"},
            },
        )
    return {
        "id": created["Id"],
        "arn": created["Arn"],
        "alias": spec["alias"],
        "role_arn": role.arn,
        "role_id": role.id,
        "bucket": bucket,
        "buckets": sorted({name for name, _ in associations}),
    }


def serve() -> None:
    for source_root in (ROOT, ROOT / "layers" / "lockdown"):
        sys.path.insert(0, str(source_root))
    from devtools.server import moto_server

    with moto_server() as endpoint:
        print(json.dumps({"endpoint": endpoint}), flush=True)
        for line in sys.stdin:
            command = json.loads(line)
            if command["op"] == "stop":
                return
            try:
                reply = build_estate(endpoint, command) if command["op"] == "estate" else add_instance(command["spec"])
            except Exception as error:  # noqa: BLE001 - reported to the parent, which raises it
                reply = {"error": f"{type(error).__name__}: {error}"}
            print(json.dumps(reply), flush=True)


def client_world(endpoint: str, estate: dict[str, Any]) -> Any:
    """The parent's view of an estate: a World whose clients talk HTTP to the server process."""
    import boto3

    from devtools.world import Instance, World

    names = ("topic_arn", "queue_url", "enforcer_role_arn", "enforcer_role_id")
    world = World(boto3.session.Session(), endpoint_url=endpoint, **{name: estate[name] for name in names})
    world.instances = [
        Instance(i["id"], i["arn"], i["alias"], i["role_arn"], i["role_id"]) for i in estate["instances"]
    ]
    return world


class MotoProcess:
    """The parent's handle on the server process."""

    def __enter__(self) -> MotoProcess:
        command = [sys.executable, "-m", "bench.moto_process"]
        self._process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.endpoint: str = self._send(None)["endpoint"]
        return self

    def __exit__(self, *_: object) -> None:
        try:
            if self._process.poll() is None:
                self._send({"op": "stop"}, reply=False)
            self._process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self._process.kill()
            self._process.wait()

    def estate(self, **command: Any) -> dict[str, Any]:
        return self._send({"op": "estate", **command})

    def add_instance(self, spec: dict[str, Any]) -> dict[str, Any]:
        """One more instance in the current estate (see `add_instance`)."""
        return self._send({"op": "instance", "spec": spec})

    def _send(self, command: dict[str, Any] | None, *, reply: bool = True) -> dict[str, Any]:
        """Send `command` (None: send nothing) and read the reply."""
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        if command is not None:
            stdin.write(json.dumps(command) + "\n")
            stdin.flush()
        line = stdout.readline() if reply else "{}"
        if not line:
            raise RuntimeError("the moto server process exited")
        answer: dict[str, Any] = json.loads(line)
        if "error" in answer:
            raise RuntimeError(f"moto server process: {answer['error']}")
        return answer


if __name__ == "__main__":
    serve()
