"""Benchmarks for `make bench`: cold start, AWS calls, latency, scaling, package size, and Cloud Custodian."""
