"""Benchmarks for `make bench`: cold start, AWS calls, time to lock, sweeps, package size, and Cloud Custodian."""
