"""The benchmark's pure helpers: the quota model's clock, the call sequences, DynamoDB's billing units and the
sweeps' figures. `make bench` measures; these check that what it computes from the measurements is right. No AWS,
no moto, no timing."""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType

import pytest

from bench import report

ROOT = Path(__file__).resolve().parents[2]
LISC = ("connect", "ListInstanceStorageConfigs")
LIST = ("connect", "ListInstances")


def _import_keeping_environment(name: str) -> ModuleType:
    # bench.common sets fake credentials and Powertools variables for the benchmark process: not for the tests.
    saved = os.environ.copy()
    try:
        return importlib.import_module(name)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def common() -> ModuleType:
    return _import_keeping_environment("bench.common")


@pytest.fixture(scope="module")
def time_to_lock() -> ModuleType:
    return _import_keeping_environment("bench.time_to_lock")


# --- the quota model -----------------------------------------------------------------------------------


def test_least_time_at_the_default_quota(common: ModuleType) -> None:
    # 2 instances, 13 resource types each: 27 calls, 10.5 s; 40 instances: 524 calls, 257.5 s.
    assert common.least_seconds([LIST, *[LISC] * 26], rate=2, burst=5) == pytest.approx(10.5)
    assert common.least_seconds([LIST] * 4 + [LISC] * 520, rate=2, burst=5) == pytest.approx(257.5)


def test_calls_within_the_burst_cost_no_time(common: ModuleType) -> None:
    assert common.least_seconds([], rate=2, burst=5) == 0
    assert common.least_seconds([LISC] * 5, rate=2, burst=5) == 0


def test_each_api_has_its_own_bucket(common: ModuleType) -> None:
    assert common.least_seconds([LIST] * 5 + [LISC] * 5, rate=2, burst=5) == 0
    # One after another: the sixth ListInstances waits 0.5 s, then the sixth storage-config list 0.5 s more
    # (its bucket was full all along, and holds no more than the burst).
    assert common.least_seconds([LIST] * 6 + [LISC] * 6, rate=2, burst=5) == pytest.approx(1.0)


def test_other_services_take_the_latency_only(common: ModuleType) -> None:
    s3 = [("s3", "GetBucketPolicy")] * 40
    assert common.least_seconds(s3, rate=2, burst=5) == 0
    assert common.least_seconds(s3, rate=2, burst=5, latency=0.025) == pytest.approx(1.0)


def test_a_serial_client_waits_for_its_token_then_the_round_trip(common: ModuleType) -> None:
    # Five at once (5 x 25 ms), the sixth token comes at 0.5 s, the seventh at 1.0 s, plus its round trip.
    assert common.least_seconds([LISC] * 7, rate=2, burst=5, latency=0.025) == pytest.approx(1.025)


def test_the_virtual_clock_never_waits_for_real(common: ModuleType) -> None:
    clock = common.VirtualClock()
    model = common.ApiModel(rate=2, burst=5, clock=clock)
    for _ in range(9):
        model.request("ListInstanceStorageConfigs")
    assert clock.now == pytest.approx(2.0)
    assert model.waited == pytest.approx(2.0)


def test_calls_before_an_operation(common: ModuleType) -> None:
    sequence = [("dynamodb", "Query"), ("s3", "GetBucketPolicy"), ("s3", "PutBucketPolicy"), LISC]
    assert common.calls_before(sequence, "PutBucketPolicy") == sequence[:2]
    assert common.calls_before(sequence, "Publish") == sequence
    assert common.per_operation(sequence, "s3") == {"GetBucketPolicy": 1, "PutBucketPolicy": 1}
    assert common.per_operation(sequence)["ListInstanceStorageConfigs"] == 1


# --- DynamoDB's units ------------------------------------------------------------------------------------


def test_item_sizes_follow_dynamodb_rules(common: ModuleType) -> None:
    assert common.dynamodb_item_size({"pk": {"S": "instance"}, "sk": {"S": "abc"}}) == 2 + 8 + 2 + 3
    # A list: 3 bytes, and 1 byte per element besides the elements themselves.
    assert common.dynamodb_item_size({"buckets": {"L": [{"S": "ab"}, {"S": "c"}]}}) == 7 + 3 + (1 + 2) + (1 + 1)
    assert common.dynamodb_item_size({"n": {"N": "123"}}) == 1 + 3


def test_write_and_read_units(common: ModuleType) -> None:
    usage = common.DynamoUsage()
    small = {"pk": {"S": "instance"}, "sk": {"S": "id"}}
    large = {"pk": {"S": "instance"}, "blob": {"S": "x" * 1500}}
    usage.batch_write(
        {
            "RequestItems": {
                "table": [
                    {"PutRequest": {"Item": small}},
                    {"PutRequest": {"Item": large}},
                    {"DeleteRequest": {"Key": small}},
                ]
            }
        }
    )
    assert (usage.items_written, usage.items_deleted, usage.write_request_units) == (2, 1, 1 + 2 + 1)
    usage.query_page({"Items": []})
    usage.query_page({"Items": [{"blob": {"S": "y" * 3000}}, {"blob": {"S": "z" * 3000}}]})
    assert (usage.query_pages, usage.items_read, usage.read_request_units) == (2, 2, 1 + 2)


# --- sweeps --------------------------------------------------------------------------------------------


def test_the_worst_size_fills_the_last_invocation(time_to_lock: ModuleType) -> None:
    assert time_to_lock.worst_size(250, 20) == 260
    assert time_to_lock.worst_size(260, 20) == 260
    assert time_to_lock.worst_size(1, 20) == 20


def test_instances_read_per_invocation(time_to_lock: ModuleType) -> None:
    continued = {"parts": [{"calls": {"ListInstanceStorageConfigs": 140}}, {"calls": {}}]}
    assert time_to_lock.instances_per_part(continued, 7) == 20
    assert time_to_lock.instances_per_part({"parts": [{"calls": {}}]}, 7) is None


def test_invocation_durations_are_grouped() -> None:
    parts = [{"modelled_seconds": 77.8}] * 3 + [{"modelled_seconds": 55.0}]
    assert report.parts_text(parts) == "3 x 77.8 s, 55.0 s"
