"""The storage-config extension of moto's Connect backend, driven through boto3 under ``mock_aws``."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.connect import urls as connect_urls
from moto.connect.exceptions import ResourceNotFoundException
from moto.connect.models import ConnectBackend, connect_backends

from devtools import connect_storage
from devtools.account import ACCOUNT, REGION
from devtools.connect_storage import (
    clear_service_role,
    install,
    set_instance_status,
    set_service_role,
)

install()

REAL_ROLE = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/connect.amazonaws.com/AWSServiceRoleForAmazonConnect_Ab12Cd"


def s3_config(bucket: str, prefix: str = "connect/recordings") -> dict[str, Any]:
    return {"StorageType": "S3", "S3Config": {"BucketName": bucket, "BucketPrefix": prefix}}


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


@pytest.fixture
def connect() -> Iterator[BaseClient]:
    with mock_aws():
        yield boto3.client("connect", region_name=REGION)


@pytest.fixture
def instance_id(connect: BaseClient) -> str:
    return str(
        connect.create_instance(
            IdentityManagementType="CONNECT_MANAGED",
            InstanceAlias="lockdown-test",
            InboundCallsEnabled=True,
            OutboundCallsEnabled=True,
        )["Id"]
    )


@pytest.fixture
def instance_arn(connect: BaseClient, instance_id: str) -> str:
    return str(connect.describe_instance(InstanceId=instance_id)["Instance"]["Arn"])


def associate(connect: BaseClient, instance_id: str, resource_type: str, config: dict[str, Any]) -> str:
    response = connect.associate_instance_storage_config(
        InstanceId=instance_id, ResourceType=resource_type, StorageConfig=config
    )
    return str(response["AssociationId"])


def list_configs(connect: BaseClient, instance_id: str, resource_type: str) -> list[dict[str, Any]]:
    response = connect.list_instance_storage_configs(InstanceId=instance_id, ResourceType=resource_type)
    assert "NextToken" not in response
    configs: list[dict[str, Any]] = response["StorageConfigs"]
    return configs


# --- associate / list / describe -------------------------------------------------------------


def test_associate_several_resource_types_and_list_each(connect: BaseClient, instance_id: str) -> None:
    recordings = associate(connect, instance_id, "CALL_RECORDINGS", s3_config("recordings-bucket"))
    transcripts = associate(connect, instance_id, "CHAT_TRANSCRIPTS", s3_config("transcripts-bucket", "chat"))
    ctr_stream = "arn:aws:kinesis:us-east-1:123456789012:stream/ctr"
    ctr = associate(
        connect,
        instance_id,
        "CONTACT_TRACE_RECORDS",
        {"StorageType": "KINESIS_STREAM", "KinesisStreamConfig": {"StreamArn": ctr_stream}},
    )

    for association_id in (recordings, transcripts, ctr):
        assert re.fullmatch(r"[0-9a-f]{64}", association_id)
    assert len({recordings, transcripts, ctr}) == 3

    assert list_configs(connect, instance_id, "CALL_RECORDINGS") == [
        {"AssociationId": recordings, **s3_config("recordings-bucket")}
    ]
    assert list_configs(connect, instance_id, "CHAT_TRANSCRIPTS") == [
        {"AssociationId": transcripts, **s3_config("transcripts-bucket", "chat")}
    ]
    assert list_configs(connect, instance_id, "CONTACT_TRACE_RECORDS") == [
        {
            "AssociationId": ctr,
            "StorageType": "KINESIS_STREAM",
            "KinesisStreamConfig": {"StreamArn": ctr_stream},
        }
    ]
    assert list_configs(connect, instance_id, "SCREEN_RECORDINGS") == []


def test_describe_returns_the_stored_config_with_its_association_id(connect: BaseClient, instance_id: str) -> None:
    config = {
        "StorageType": "S3",
        "S3Config": {
            "BucketName": "recordings-bucket",
            "BucketPrefix": "connect/recordings",
            "EncryptionConfig": {"EncryptionType": "KMS", "KeyId": "arn:aws:kms:us-east-1:123456789012:key/k"},
        },
    }
    association_id = associate(connect, instance_id, "CALL_RECORDINGS", config)

    described = connect.describe_instance_storage_config(
        InstanceId=instance_id, AssociationId=association_id, ResourceType="CALL_RECORDINGS"
    )

    assert described["StorageConfig"] == {"AssociationId": association_id, **config}


def test_describe_under_another_resource_type_is_not_found(connect: BaseClient, instance_id: str) -> None:
    association_id = associate(connect, instance_id, "CALL_RECORDINGS", s3_config("recordings-bucket"))

    with pytest.raises(ClientError) as excinfo:
        connect.describe_instance_storage_config(
            InstanceId=instance_id, AssociationId=association_id, ResourceType="CHAT_TRANSCRIPTS"
        )

    assert error_code(excinfo) == "ResourceNotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


# --- pagination ------------------------------------------------------------------------------


def test_list_pages_by_ten_by_default(connect: BaseClient, instance_id: str) -> None:
    created = [associate(connect, instance_id, "CALL_RECORDINGS", s3_config(f"bucket-{n:02d}")) for n in range(12)]

    first = connect.list_instance_storage_configs(InstanceId=instance_id, ResourceType="CALL_RECORDINGS")
    assert [c["AssociationId"] for c in first["StorageConfigs"]] == created[:10]
    assert first["NextToken"]

    second = connect.list_instance_storage_configs(
        InstanceId=instance_id, ResourceType="CALL_RECORDINGS", NextToken=first["NextToken"]
    )
    assert [c["AssociationId"] for c in second["StorageConfigs"]] == created[10:]
    assert [c["S3Config"]["BucketName"] for c in second["StorageConfigs"]] == ["bucket-10", "bucket-11"]
    assert "NextToken" not in second


def test_boto3_paginator_walks_every_page_with_max_results(connect: BaseClient, instance_id: str) -> None:
    created = [associate(connect, instance_id, "CHAT_TRANSCRIPTS", s3_config(f"b-{n}")) for n in range(5)]
    associate(connect, instance_id, "CALL_RECORDINGS", s3_config("other-type"))

    pages = list(
        connect.get_paginator("list_instance_storage_configs").paginate(
            InstanceId=instance_id, ResourceType="CHAT_TRANSCRIPTS", PaginationConfig={"PageSize": 2}
        )
    )

    assert [len(page["StorageConfigs"]) for page in pages] == [2, 2, 1]
    assert [c["AssociationId"] for page in pages for c in page["StorageConfigs"]] == created


def test_max_results_above_the_api_limit_is_rejected(connect: BaseClient, instance_id: str) -> None:
    # botocore checks only the minimum of MaxResult10 client-side; the service enforces the maximum.
    with pytest.raises(ClientError) as excinfo:
        connect.list_instance_storage_configs(InstanceId=instance_id, ResourceType="CALL_RECORDINGS", MaxResults=11)

    assert error_code(excinfo) == "InvalidParameterException"


# --- update / disassociate -------------------------------------------------------------------


def test_update_changes_the_bucket_and_keeps_the_association_id(connect: BaseClient, instance_id: str) -> None:
    association_id = associate(connect, instance_id, "CALL_RECORDINGS", s3_config("old-bucket"))

    response = connect.update_instance_storage_config(
        InstanceId=instance_id,
        AssociationId=association_id,
        ResourceType="CALL_RECORDINGS",
        StorageConfig={"AssociationId": "ignored-body-value", **s3_config("new-bucket", "new/prefix")},
    )

    assert response["ResponseMetadata"]["HTTPStatusCode"] == 200
    described = connect.describe_instance_storage_config(
        InstanceId=instance_id, AssociationId=association_id, ResourceType="CALL_RECORDINGS"
    )["StorageConfig"]
    assert described == {"AssociationId": association_id, **s3_config("new-bucket", "new/prefix")}
    assert list_configs(connect, instance_id, "CALL_RECORDINGS") == [described]


def test_disassociate_removes_only_that_association(connect: BaseClient, instance_id: str) -> None:
    gone = associate(connect, instance_id, "CALL_RECORDINGS", s3_config("gone-bucket"))
    kept = associate(connect, instance_id, "CALL_RECORDINGS", s3_config("kept-bucket"))

    connect.disassociate_instance_storage_config(
        InstanceId=instance_id, AssociationId=gone, ResourceType="CALL_RECORDINGS"
    )

    assert [c["AssociationId"] for c in list_configs(connect, instance_id, "CALL_RECORDINGS")] == [kept]
    for call in (connect.describe_instance_storage_config, connect.disassociate_instance_storage_config):
        with pytest.raises(ClientError) as excinfo:
            call(InstanceId=instance_id, AssociationId=gone, ResourceType="CALL_RECORDINGS")
        assert error_code(excinfo) == "ResourceNotFoundException"


# --- errors ----------------------------------------------------------------------------------

UNKNOWN_INSTANCE = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("associate_instance_storage_config", {"StorageConfig": s3_config("b")}),
        ("list_instance_storage_configs", {}),
        ("describe_instance_storage_config", {"AssociationId": "a" * 64}),
        ("update_instance_storage_config", {"AssociationId": "a" * 64, "StorageConfig": s3_config("b")}),
        ("disassociate_instance_storage_config", {"AssociationId": "a" * 64}),
    ],
)
def test_unknown_instance_is_not_found(connect: BaseClient, operation: str, kwargs: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        getattr(connect, operation)(InstanceId=UNKNOWN_INSTANCE, ResourceType="CALL_RECORDINGS", **kwargs)

    assert error_code(excinfo) == "ResourceNotFoundException"
    assert UNKNOWN_INSTANCE in excinfo.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("describe_instance_storage_config", {}),
        ("update_instance_storage_config", {"StorageConfig": s3_config("b")}),
        ("disassociate_instance_storage_config", {}),
    ],
)
def test_unknown_association_is_not_found(
    connect: BaseClient, instance_id: str, operation: str, kwargs: dict[str, Any]
) -> None:
    associate(connect, instance_id, "CALL_RECORDINGS", s3_config("some-bucket"))

    with pytest.raises(ClientError) as excinfo:
        getattr(connect, operation)(
            InstanceId=instance_id, AssociationId="f" * 64, ResourceType="CALL_RECORDINGS", **kwargs
        )

    assert error_code(excinfo) == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("operation", "kwargs"),
    [
        ("associate_instance_storage_config", {"StorageConfig": s3_config("b")}),
        ("list_instance_storage_configs", {}),
        ("describe_instance_storage_config", {"AssociationId": "a" * 64}),
    ],
)
def test_bad_resource_type_is_an_invalid_parameter(
    connect: BaseClient, instance_id: str, operation: str, kwargs: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as excinfo:
        getattr(connect, operation)(InstanceId=instance_id, ResourceType="VOICEMAILS", **kwargs)

    assert error_code(excinfo) == "InvalidParameterException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_resource_types_come_from_botocore_model(connect: BaseClient) -> None:
    model_enum = connect.meta.service_model.shape_for("InstanceStorageResourceType").enum
    assert set(model_enum) == connect_storage.RESOURCE_TYPES
    assert {"CALL_RECORDINGS", "CHAT_TRANSCRIPTS"} <= connect_storage.RESOURCE_TYPES


@pytest.mark.parametrize(
    ("storage_config", "expected_code"),
    [
        ({"S3Config": {"BucketName": "b", "BucketPrefix": "p"}}, "InvalidRequestException"),
        ({"StorageType": "FTP", "S3Config": {"BucketName": "b"}}, "InvalidRequestException"),
        ({"StorageType": "S3"}, "InvalidParameterException"),
        ({"StorageType": "S3", "S3Config": {"BucketPrefix": "p"}}, "InvalidParameterException"),
        ({"StorageType": "S3", "S3Config": {"BucketName": "", "BucketPrefix": "p"}}, "InvalidParameterException"),
        ({"StorageType": "KINESIS_STREAM", "S3Config": {"BucketName": "b"}}, "InvalidParameterException"),
    ],
)
def test_malformed_storage_config_is_rejected_by_the_service(
    instance_id: str, storage_config: dict[str, Any], expected_code: str
) -> None:
    # botocore would refuse most of these client-side; switch that off to reach the service.
    raw = boto3.client("connect", region_name=REGION, config=Config(parameter_validation=False))

    with pytest.raises(ClientError) as excinfo:
        raw.associate_instance_storage_config(
            InstanceId=instance_id, ResourceType="CALL_RECORDINGS", StorageConfig=storage_config
        )

    assert error_code(excinfo) == expected_code
    assert list_configs(raw, instance_id, "CALL_RECORDINGS") == []


# --- InstanceId as an ARN --------------------------------------------------------------------


def test_instance_arn_is_accepted_wherever_an_id_is(connect: BaseClient, instance_id: str, instance_arn: str) -> None:
    association_id = associate(connect, instance_arn, "CALL_RECORDINGS", s3_config("via-arn"))

    assert [c["AssociationId"] for c in list_configs(connect, instance_id, "CALL_RECORDINGS")] == [association_id]
    assert [c["AssociationId"] for c in list_configs(connect, instance_arn, "CALL_RECORDINGS")] == [association_id]
    connect.update_instance_storage_config(
        InstanceId=instance_arn,
        AssociationId=association_id,
        ResourceType="CALL_RECORDINGS",
        StorageConfig=s3_config("via-arn-2"),
    )
    described = connect.describe_instance_storage_config(
        InstanceId=instance_arn, AssociationId=association_id, ResourceType="CALL_RECORDINGS"
    )
    assert described["StorageConfig"]["S3Config"]["BucketName"] == "via-arn-2"
    connect.disassociate_instance_storage_config(
        InstanceId=instance_arn, AssociationId=association_id, ResourceType="CALL_RECORDINGS"
    )
    assert list_configs(connect, instance_id, "CALL_RECORDINGS") == []


def test_url_encoded_arn_reaches_the_backend_decoded(connect: BaseClient, instance_id: str, instance_arn: str) -> None:
    association_id = associate(connect, instance_id, "CALL_RECORDINGS", s3_config("b"))
    sent_paths: list[str] = []
    connect.meta.events.register(
        "before-send.connect.ListInstanceStorageConfigs",
        lambda request, **_: sent_paths.append(request.url),
    )

    configs = list_configs(connect, instance_arn, "CALL_RECORDINGS")

    assert [c["AssociationId"] for c in configs] == [association_id]

    # The ARN's "/" travels as %2F, so the path still has one segment for InstanceId.
    assert quote(instance_arn.split(":")[-1], safe="") in sent_paths[0]
    assert "instance%2F" in sent_paths[0]


def test_arn_of_another_account_is_not_found(connect: BaseClient, instance_id: str) -> None:
    foreign_arn = f"arn:aws:connect:{REGION}:210987654321:instance/{instance_id}"

    with pytest.raises(ClientError) as excinfo:
        connect.list_instance_storage_configs(InstanceId=foreign_arn, ResourceType="CALL_RECORDINGS")

    assert error_code(excinfo) == "ResourceNotFoundException"


# --- interplay with moto's own instance APIs -------------------------------------------------


def _backend() -> ConnectBackend:
    return connect_backends[ACCOUNT][REGION]


def test_delete_instance_drops_its_storage_configs(connect: BaseClient, instance_id: str) -> None:
    other = connect.create_instance(
        IdentityManagementType="CONNECT_MANAGED", InboundCallsEnabled=True, OutboundCallsEnabled=False
    )["Id"]
    associate(connect, instance_id, "CALL_RECORDINGS", s3_config("doomed"))
    kept = associate(connect, other, "CALL_RECORDINGS", s3_config("kept"))
    instance = _backend().instances[instance_id]

    connect.delete_instance(InstanceId=instance_id)

    with pytest.raises(ClientError) as excinfo:
        connect.list_instance_storage_configs(InstanceId=instance_id, ResourceType="CALL_RECORDINGS")
    assert error_code(excinfo) == "ResourceNotFoundException"
    # Put the same instance object back: it must not come back with its old configs.
    _backend().instances[instance_id] = instance
    assert list_configs(connect, instance_id, "CALL_RECORDINGS") == []
    assert [c["AssociationId"] for c in list_configs(connect, other, "CALL_RECORDINGS")] == [kept]


def test_existing_instance_routes_still_work(connect: BaseClient, instance_id: str) -> None:
    associate(connect, instance_id, "CALL_RECORDINGS", s3_config("b"))

    assert connect.describe_instance(InstanceId=instance_id)["Instance"]["Id"] == instance_id
    assert [s["Id"] for s in connect.list_instances()["InstanceSummaryList"]] == [instance_id]


def test_set_service_role_shows_in_describe_and_list(connect: BaseClient, instance_id: str) -> None:
    set_service_role(instance_id, REAL_ROLE)

    assert connect.describe_instance(InstanceId=instance_id)["Instance"]["ServiceRole"] == REAL_ROLE
    (summary,) = connect.list_instances()["InstanceSummaryList"]
    assert summary["ServiceRole"] == REAL_ROLE


def test_set_service_role_accepts_an_arn(connect: BaseClient, instance_id: str, instance_arn: str) -> None:
    set_service_role(instance_arn, REAL_ROLE, account_id=ACCOUNT, region=REGION)

    assert connect.describe_instance(InstanceId=instance_id)["Instance"]["ServiceRole"] == REAL_ROLE


def test_clear_service_role_omits_the_key(connect: BaseClient, instance_id: str) -> None:
    raw_bodies: list[dict[str, Any]] = []
    # botocore silently drops JSON nulls, so check the wire too: the key must be absent, not null.
    connect.meta.events.register(
        "before-parse.connect.*", lambda response_dict, **_: raw_bodies.append(json.loads(response_dict["body"]))
    )
    assert "ServiceRole" in connect.describe_instance(InstanceId=instance_id)["Instance"]

    clear_service_role(instance_id)

    assert "ServiceRole" not in connect.describe_instance(InstanceId=instance_id)["Instance"]
    (summary,) = connect.list_instances()["InstanceSummaryList"]
    assert "ServiceRole" not in summary
    assert summary["Id"] == instance_id
    first, described, listed = raw_bodies
    assert "ServiceRole" in first["Instance"]
    assert "ServiceRole" not in described["Instance"]
    assert "ServiceRole" not in listed["InstanceSummaryList"][0]


def test_set_instance_status(connect: BaseClient, instance_id: str) -> None:
    set_instance_status(instance_id, "CREATION_IN_PROGRESS")

    assert connect.describe_instance(InstanceId=instance_id)["Instance"]["InstanceStatus"] == ("CREATION_IN_PROGRESS")
    (summary,) = connect.list_instances()["InstanceSummaryList"]
    assert summary["InstanceStatus"] == "CREATION_IN_PROGRESS"


def test_set_instance_status_rejects_values_outside_the_model(instance_id: str) -> None:
    with pytest.raises(ValueError, match="CREATION_IN_PROGRESS"):
        set_instance_status(instance_id, "DELETING")


def test_helpers_raise_for_an_unknown_instance(connect: BaseClient) -> None:
    with pytest.raises(ResourceNotFoundException):
        set_service_role(UNKNOWN_INSTANCE, REAL_ROLE)
    with pytest.raises(ResourceNotFoundException):
        clear_service_role(UNKNOWN_INSTANCE)


def test_helpers_target_the_given_region(instance_id: str) -> None:
    west = boto3.client("connect", region_name="us-west-2")
    west_id = west.create_instance(
        IdentityManagementType="CONNECT_MANAGED", InboundCallsEnabled=True, OutboundCallsEnabled=True
    )["Id"]

    set_service_role(west_id, REAL_ROLE, region="us-west-2")

    assert west.describe_instance(InstanceId=west_id)["Instance"]["ServiceRole"] == REAL_ROLE
    with pytest.raises(ResourceNotFoundException):
        set_service_role(instance_id, REAL_ROLE, region="us-west-2")


# --- install() -------------------------------------------------------------------------------


def test_install_is_idempotent(connect: BaseClient, instance_id: str) -> None:
    paths_before = dict(connect_urls.url_paths)
    delete_before = ConnectBackend.delete_instance

    install()
    install()

    assert connect_urls.url_paths == paths_before
    assert ConnectBackend.delete_instance is delete_before
    associate(connect, instance_id, "CALL_RECORDINGS", s3_config("after-reinstall"))
    connect.delete_instance(InstanceId=instance_id)
    assert instance_id not in _backend().instances


def test_new_routes_do_not_shadow_the_instance_route() -> None:
    instance_route = next(
        re.compile(p.format("")) for p in connect_urls.url_paths if p.endswith("/instance/(?P<InstanceId>[^/]+)$")
    )
    assert instance_route.match("/instance/abc")
    assert not instance_route.match("/instance/abc/storage-configs")
    for pattern in connect_storage.URL_PATHS:
        assert pattern in connect_urls.url_paths
        assert not re.compile(pattern.format("")).match("/instance/abc")
