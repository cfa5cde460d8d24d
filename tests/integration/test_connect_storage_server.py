"""The storage-config extension over real HTTP, against moto's ThreadedMotoServer on 127.0.0.1.

The server runs in this process, so it shares moto's global backends (and the helpers in
``devtools.connect_storage`` act on what the server serves), but every call below goes
through botocore's HTTP stack, werkzeug's URL decoding and the server's Flask routing.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from moto.connect import urls as connect_urls
from moto.connect.models import connect_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import ThreadedMotoServer

from devtools import connect_storage
from devtools.connect_storage import clear_service_role, install, set_service_role

pytestmark = pytest.mark.integration

REAL_ROLE = "arn:aws:iam::123456789012:role/aws-service-role/connect.amazonaws.com/AWSServiceRoleForAmazonConnect_Zz9"


@pytest.fixture(scope="module")
def server(request: pytest.FixtureRequest) -> ThreadedMotoServer:
    install()
    moto_server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto_server.start()
    request.addfinalizer(moto_server.stop)
    return moto_server


@pytest.fixture
def endpoint(server: ThreadedMotoServer) -> Iterator[str]:
    host, port = server.get_host_and_port()
    assert port != 0, "port=0 must be replaced by the port the OS bound"
    url = f"http://{host}:{port}"
    yield url
    # The server shares moto's global state with the rest of the test session: leave it empty.
    urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"), timeout=10)


@pytest.fixture
def connect(endpoint: str) -> BaseClient:
    return boto3.client("connect", region_name="us-east-1", endpoint_url=endpoint)


@pytest.fixture
def instance_id(connect: BaseClient) -> str:
    return str(
        connect.create_instance(
            IdentityManagementType="CONNECT_MANAGED", InboundCallsEnabled=True, OutboundCallsEnabled=True
        )["Id"]
    )


def s3_config(bucket: str) -> dict[str, Any]:
    return {"StorageType": "S3", "S3Config": {"BucketName": bucket, "BucketPrefix": "connect"}}


def association_ids(response: dict[str, Any]) -> list[str]:
    return [config["AssociationId"] for config in response["StorageConfigs"]]


def test_storage_config_lifecycle_over_http(connect: BaseClient, instance_id: str) -> None:
    sent_urls: list[str] = []
    connect.meta.events.register("before-send.connect.*", lambda request, **_: sent_urls.append(request.url))

    recordings = connect.associate_instance_storage_config(
        InstanceId=instance_id, ResourceType="CALL_RECORDINGS", StorageConfig=s3_config("rec-1")
    )["AssociationId"]
    second = connect.associate_instance_storage_config(
        InstanceId=instance_id, ResourceType="CALL_RECORDINGS", StorageConfig=s3_config("rec-2")
    )["AssociationId"]
    transcripts = connect.associate_instance_storage_config(
        InstanceId=instance_id, ResourceType="CHAT_TRANSCRIPTS", StorageConfig=s3_config("chat")
    )["AssociationId"]
    assert all(re.fullmatch(r"[0-9a-f]{64}", a) for a in (recordings, second, transcripts))
    assert sent_urls[0].endswith(f"/instance/{instance_id}/storage-config")

    first_page = connect.list_instance_storage_configs(
        InstanceId=instance_id, ResourceType="CALL_RECORDINGS", MaxResults=1
    )
    assert association_ids(first_page) == [recordings]
    second_page = connect.list_instance_storage_configs(
        InstanceId=instance_id, ResourceType="CALL_RECORDINGS", MaxResults=1, NextToken=first_page["NextToken"]
    )
    assert association_ids(second_page) == [second]
    assert "NextToken" not in second_page
    chat = connect.list_instance_storage_configs(InstanceId=instance_id, ResourceType="CHAT_TRANSCRIPTS")
    assert chat["StorageConfigs"] == [{"AssociationId": transcripts, **s3_config("chat")}]

    connect.update_instance_storage_config(
        InstanceId=instance_id,
        AssociationId=recordings,
        ResourceType="CALL_RECORDINGS",
        StorageConfig=s3_config("rec-1-moved"),
    )
    described = connect.describe_instance_storage_config(
        InstanceId=instance_id, AssociationId=recordings, ResourceType="CALL_RECORDINGS"
    )
    assert described["StorageConfig"] == {"AssociationId": recordings, **s3_config("rec-1-moved")}

    connect.disassociate_instance_storage_config(
        InstanceId=instance_id, AssociationId=recordings, ResourceType="CALL_RECORDINGS"
    )
    remaining = connect.list_instance_storage_configs(InstanceId=instance_id, ResourceType="CALL_RECORDINGS")
    assert association_ids(remaining) == [second]
    with pytest.raises(ClientError) as excinfo:
        connect.describe_instance_storage_config(
            InstanceId=instance_id, AssociationId=recordings, ResourceType="CALL_RECORDINGS"
        )
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_url_encoded_instance_arn_is_routed_and_resolved(connect: BaseClient, instance_id: str) -> None:
    arn = connect.describe_instance(InstanceId=instance_id)["Instance"]["Arn"]
    association_id = connect.associate_instance_storage_config(
        InstanceId=arn, ResourceType="CALL_RECORDINGS", StorageConfig=s3_config("via-arn")
    )["AssociationId"]

    by_id = connect.list_instance_storage_configs(InstanceId=instance_id, ResourceType="CALL_RECORDINGS")
    by_arn = connect.list_instance_storage_configs(InstanceId=arn, ResourceType="CALL_RECORDINGS")
    described = connect.describe_instance_storage_config(
        InstanceId=arn, AssociationId=association_id, ResourceType="CALL_RECORDINGS"
    )

    assert association_ids(by_id) == association_ids(by_arn) == [association_id]
    assert described["StorageConfig"]["S3Config"]["BucketName"] == "via-arn"


@pytest.mark.parametrize(
    ("instance", "resource_type", "expected_code", "expected_status"),
    [
        ("00000000-0000-0000-0000-000000000000", "CALL_RECORDINGS", "ResourceNotFoundException", 404),
        (None, "NOT_A_TYPE", "InvalidParameterException", 400),
    ],
)
def test_errors_come_back_as_modelled_exceptions(
    connect: BaseClient,
    instance_id: str,
    instance: str | None,
    resource_type: str,
    expected_code: str,
    expected_status: int,
) -> None:
    with pytest.raises(ClientError) as excinfo:
        connect.list_instance_storage_configs(InstanceId=instance or instance_id, ResourceType=resource_type)

    assert excinfo.value.response["Error"]["Code"] == expected_code
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == expected_status


def test_delete_instance_drops_storage_configs(connect: BaseClient, instance_id: str) -> None:
    connect.associate_instance_storage_config(
        InstanceId=instance_id, ResourceType="CALL_RECORDINGS", StorageConfig=s3_config("doomed")
    )
    backend = connect_backends["123456789012"]["us-east-1"]
    instance = backend.instances[instance_id]

    connect.delete_instance(InstanceId=instance_id)
    backend.instances[instance_id] = instance  # same id again: must start with no configs

    listed = connect.list_instance_storage_configs(InstanceId=instance_id, ResourceType="CALL_RECORDINGS")
    assert listed["StorageConfigs"] == []


def test_service_role_helpers_are_visible_through_the_server(connect: BaseClient, instance_id: str) -> None:
    set_service_role(instance_id, REAL_ROLE)
    assert connect.describe_instance(InstanceId=instance_id)["Instance"]["ServiceRole"] == REAL_ROLE

    clear_service_role(instance_id)
    assert "ServiceRole" not in connect.describe_instance(InstanceId=instance_id)["Instance"]
    (summary,) = connect.list_instances()["InstanceSummaryList"]
    assert "ServiceRole" not in summary


def test_connect_app_cached_before_install_is_rebuilt(
    server: ThreadedMotoServer, connect: BaseClient, instance_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Build the Flask app a server would have cached had it answered Connect before install().
    with monkeypatch.context() as patch:
        patch.setattr(
            connect_urls,
            "url_paths",
            {k: v for k, v in connect_urls.url_paths.items() if k not in connect_storage.URL_PATHS},
        )
        stale_app = create_backend_app("connect")
    assert not any("storage-config" in rule.rule for rule in stale_app.url_map.iter_rules())
    # ThreadedMotoServer keeps its WSGI server private; its app is the per-service app cache.
    assert server._server is not None
    dispatcher = server._server.app
    assert isinstance(dispatcher, DomainDispatcherApplication)
    monkeypatch.setitem(dispatcher.app_instances, "connect", stale_app)

    listed = connect.list_instance_storage_configs(InstanceId=instance_id, ResourceType="CALL_RECORDINGS")

    assert listed["StorageConfigs"] == []
    assert dispatcher.app_instances["connect"] is not stale_app
