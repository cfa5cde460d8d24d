"""Benchmarks for `make bench`: cold start, AWS calls, time to lock, sweeps, package size; `bench.cost` for the bill."""
