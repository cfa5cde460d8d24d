"""Instance storage-config APIs for moto's Amazon Connect backend, for the tests, the bench and the demo.

Why this exists: the lockdown Lambda finds the bucket it must lock by asking Amazon Connect
where an instance stores its call recordings, chat transcripts and so on
(``ListInstanceStorageConfigs``). moto 5.2.5 models Connect instances but not their storage
configs, so without this module every test would have to stub boto3 by hand and could not
run against a real HTTP endpoint (``ThreadedMotoServer``).

``install()`` patches moto in place rather than subclassing, because moto finds a service's
URL table through the *module* of the backend class (``moto.connect.models`` ->
``moto.connect.urls``) and looks response handlers up on ``ConnectResponse`` itself; a
subclass living in this module would be invisible to both ``mock_aws`` and the server.

Shapes follow botocore's service model for ``connect``:

* ``AssociateInstanceStorageConfig``    PUT    /instance/{InstanceId}/storage-config
* ``DescribeInstanceStorageConfig``     GET    /instance/{InstanceId}/storage-config/{AssociationId}
* ``UpdateInstanceStorageConfig``       POST   /instance/{InstanceId}/storage-config/{AssociationId}
* ``DisassociateInstanceStorageConfig`` DELETE /instance/{InstanceId}/storage-config/{AssociationId}
* ``ListInstanceStorageConfigs``        GET    /instance/{InstanceId}/storage-configs

Deliberate simplifications (real Connect may differ; none matter to the lockdown code):

* several associations of one resource type are allowed, so pagination can be exercised;
* ``ClientToken`` idempotency is not modelled;
* which error code real Connect uses for a malformed ``StorageConfig`` is not documented;
  a missing or unknown ``StorageType`` raises ``InvalidRequestException`` (the request is
  structurally unusable), a missing type-specific block or ``S3Config.BucketName`` raises
  ``InvalidParameterException`` (one parameter is wrong), as for a bad ``ResourceType``.
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
from collections.abc import Callable
from typing import Any

import boto3
from moto.connect import urls as connect_urls
from moto.connect.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.connect.models import ConnectBackend, Instance, connect_backends
from moto.connect.responses import ConnectResponse
from moto.core.exceptions import JsonRESTError
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.utilities.paginator import paginate

from devtools.account import ACCOUNT, REGION

__all__ = [
    "clear_service_role",
    "install",
    "set_instance_status",
    "set_service_role",
]


# Read the enums from botocore rather than hard-coding them, so the mock accepts exactly what
# the installed SDK can send (new resource types appear in botocore before anyone edits this).
_SERVICE_MODEL = boto3.session.Session().client("connect", region_name=REGION).meta.service_model
RESOURCE_TYPES: frozenset[str] = frozenset(_SERVICE_MODEL.shape_for("InstanceStorageResourceType").enum)
STORAGE_TYPES: frozenset[str] = frozenset(_SERVICE_MODEL.shape_for("StorageType").enum)
INSTANCE_STATUSES: frozenset[str] = frozenset(_SERVICE_MODEL.shape_for("InstanceStatus").enum)
# botocore's MaxResult10 shape: the API never returns more than 10 configs per page.
MAX_RESULTS_LIMIT = 10

# The StorageConfig member that must accompany each StorageType.
_CONFIG_KEY_FOR_STORAGE_TYPE = {
    "S3": "S3Config",
    "KINESIS_VIDEO_STREAM": "KinesisVideoStreamConfig",
    "KINESIS_STREAM": "KinesisStreamConfig",
    "KINESIS_FIREHOSE": "KinesisFirehoseConfig",
}

# The page size defaults to the API maximum (10), so a test with 11+ configs sees two pages.
PAGINATION_MODEL = {
    "list_instance_storage_configs": {
        "input_token": "next_token",
        "limit_key": "max_results",
        "limit_default": MAX_RESULTS_LIMIT,
        "unique_attribute": "AssociationId",
        "output_token": "next_token",
    },
}

# InstanceId allows "/" because the moto server matches Flask routes against the *decoded*
# path: an instance ARN sent as ``arn%3A...%3Ainstance%2F<uuid>`` arrives as ``.../instance/<uuid>``.
# The trailing literal segments keep these apart from moto's own ``/instance/<id>$`` route.
_INSTANCE = r"(?P<InstanceId>.+)"
URL_PATHS: dict[str, Callable[..., Any]] = {
    "{0}/instance/" + _INSTANCE + r"/storage-configs$": ConnectResponse.dispatch,
    "{0}/instance/" + _INSTANCE + r"/storage-config$": ConnectResponse.dispatch,
    "{0}/instance/" + _INSTANCE + r"/storage-config/(?P<AssociationId>[^/]+)$": ConnectResponse.dispatch,
}

_STORAGE_ATTR = "_instance_storage_configs"
_PATCH_MARKER = "_connect_storage_patched"
_INSTALL_LOCK = threading.RLock()

# instance id -> resource type -> association id -> StorageConfig (insertion ordered).
StorageConfigs = dict[str, dict[str, dict[str, dict[str, Any]]]]


class InvalidRequestException(JsonRESTError):
    """Connect's InvalidRequestException (HTTP 400), which moto.connect does not define."""

    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidRequestException", message)


# --------------------------------------------------------------------------------------------
# Backend helpers
# --------------------------------------------------------------------------------------------


def _storage(backend: ConnectBackend) -> StorageConfigs:
    """Return the backend's storage-config table, creating it on first use.

    Kept in the instance ``__dict__`` (not set up in ``__init__``) so it also works on backends
    created before ``install()`` ran, and vanishes with moto's reset, which clears ``__dict__``.
    """
    table: StorageConfigs = backend.__dict__.setdefault(_STORAGE_ATTR, {})
    return table


def _resolve_instance(backend: ConnectBackend, instance_id: str) -> Instance:
    """Find an instance by id or by full ARN, as real Connect accepts both."""
    if not instance_id:
        raise InvalidParameterException("InstanceId is a required parameter")
    instance = backend.instances.get(instance_id)
    if instance is None and instance_id.startswith("arn:"):
        instance = next((i for i in backend.instances.values() if i.arn == instance_id), None)
    if instance is None:
        raise ResourceNotFoundException(f"Instance with id {instance_id} not found")
    return instance


def _check_resource_type(resource_type: str | None) -> str:
    if not resource_type:
        raise InvalidParameterException("ResourceType is a required parameter")
    if resource_type not in RESOURCE_TYPES:
        raise InvalidParameterException(
            f"Invalid ResourceType {resource_type}; must be one of {', '.join(sorted(RESOURCE_TYPES))}"
        )
    return resource_type


def _check_storage_config(storage_config: Any) -> dict[str, Any]:
    """Validate a StorageConfig the way the service (not botocore) would, returning a copy."""
    if not isinstance(storage_config, dict):
        raise InvalidRequestException("StorageConfig is a required parameter")
    storage_type = storage_config.get("StorageType")
    if not storage_type:
        raise InvalidRequestException("StorageConfig.StorageType is a required parameter")
    if storage_type not in STORAGE_TYPES:
        raise InvalidRequestException(
            f"Invalid StorageType {storage_type}; must be one of {', '.join(sorted(STORAGE_TYPES))}"
        )
    config_key = _CONFIG_KEY_FOR_STORAGE_TYPE[storage_type]
    if not isinstance(storage_config.get(config_key), dict):
        raise InvalidParameterException(f"{config_key} is required when StorageType is {storage_type}")
    if storage_type == "S3" and not storage_config["S3Config"].get("BucketName"):
        raise InvalidParameterException("S3Config.BucketName is required when StorageType is S3")
    return copy.deepcopy(storage_config)


def _get_association(
    backend: ConnectBackend, instance_id: str, association_id: str, resource_type: str | None
) -> tuple[Instance, str, dict[str, dict[str, Any]]]:
    """Return (instance, resource type, that type's association table) for an existing association."""
    instance = _resolve_instance(backend, instance_id)
    checked_type = _check_resource_type(resource_type)
    by_association = _storage(backend).get(instance.id, {}).get(checked_type, {})
    if association_id not in by_association:
        raise ResourceNotFoundException(
            f"Storage config {association_id} of type {checked_type} not found for instance {instance.id}"
        )
    return instance, checked_type, by_association


# --------------------------------------------------------------------------------------------
# Backend methods (bound onto ConnectBackend by install())
# --------------------------------------------------------------------------------------------


def associate_instance_storage_config(
    self: ConnectBackend, instance_id: str, resource_type: str | None, storage_config: Any
) -> dict[str, str]:
    """Store a new storage config and return its AssociationId (64 hex chars, as real AWS)."""
    instance = _resolve_instance(self, instance_id)
    checked_type = _check_resource_type(resource_type)
    stored = _check_storage_config(storage_config)
    association_id = secrets.token_hex(32)
    # Real Connect echoes the AssociationId inside StorageConfig on Describe/List.
    stored["AssociationId"] = association_id
    _storage(self).setdefault(instance.id, {}).setdefault(checked_type, {})[association_id] = stored
    return {"AssociationId": association_id}


def describe_instance_storage_config(
    self: ConnectBackend, instance_id: str, association_id: str, resource_type: str | None
) -> dict[str, Any]:
    _, _, by_association = _get_association(self, instance_id, association_id, resource_type)
    return copy.deepcopy(by_association[association_id])


def update_instance_storage_config(
    self: ConnectBackend,
    instance_id: str,
    association_id: str,
    resource_type: str | None,
    storage_config: Any,
) -> None:
    """Replace a stored config; the AssociationId stays the one from the URL, whatever the body says."""
    _, _, by_association = _get_association(self, instance_id, association_id, resource_type)
    stored = _check_storage_config(storage_config)
    stored["AssociationId"] = association_id
    by_association[association_id] = stored


def disassociate_instance_storage_config(
    self: ConnectBackend, instance_id: str, association_id: str, resource_type: str | None
) -> None:
    instance, checked_type, by_association = _get_association(self, instance_id, association_id, resource_type)
    del by_association[association_id]
    per_instance = _storage(self)[instance.id]
    if not per_instance[checked_type]:
        del per_instance[checked_type]
    if not per_instance:
        del _storage(self)[instance.id]


@paginate(pagination_model=PAGINATION_MODEL)
def list_instance_storage_configs(
    self: ConnectBackend,
    instance_id: str,
    resource_type: str | None,
    max_results: int | None = None,
    next_token: str | None = None,
) -> list[dict[str, Any]]:
    """All configs of one resource type, oldest first; moto's paginator slices the page."""
    instance = _resolve_instance(self, instance_id)
    checked_type = _check_resource_type(resource_type)
    if max_results is not None and not 1 <= max_results <= MAX_RESULTS_LIMIT:
        raise InvalidParameterException(f"MaxResults must be between 1 and {MAX_RESULTS_LIMIT}")
    by_association = _storage(self).get(instance.id, {}).get(checked_type, {})
    return [copy.deepcopy(config) for config in by_association.values()]


def _wrap_delete_instance(original: Callable[..., None]) -> Callable[..., None]:
    """Make DeleteInstance drop the instance's storage configs, as deleting the real one does."""

    def delete_instance(self: ConnectBackend, instance_id: str) -> None:
        original(self, instance_id)
        _storage(self).pop(instance_id, None)

    setattr(delete_instance, _PATCH_MARKER, True)
    delete_instance.__doc__ = original.__doc__
    return delete_instance


def _wrap_instance_dict(original: Callable[[Instance], dict[str, Any]]) -> Callable[[Instance], dict[str, Any]]:
    """Omit ServiceRole when it is None: real Connect leaves it out while the role does not exist."""

    def to_dict(self: Instance) -> dict[str, Any]:
        result = original(self)
        if self.service_role is None:
            result.pop("ServiceRole", None)
        return result

    setattr(to_dict, _PATCH_MARKER, True)
    return to_dict


# --------------------------------------------------------------------------------------------
# Response handlers (bound onto ConnectResponse by install()); moto picks them by the
# snake_case operation name that its botocore-based router resolves from method + path.
# --------------------------------------------------------------------------------------------


def _body(response: ConnectResponse) -> dict[str, Any]:
    params = json.loads(response.body) if response.body else {}
    return params if isinstance(params, dict) else {}


def _association_id(response: ConnectResponse) -> str:
    return str(response._get_param("AssociationId") or "")


def _respond_associate(self: ConnectResponse) -> str:
    body = _body(self)
    result = self.connect_backend.associate_instance_storage_config(  # type: ignore[attr-defined]
        instance_id=self._get_instance_id(),
        resource_type=body.get("ResourceType"),
        storage_config=body.get("StorageConfig"),
    )
    return json.dumps(result)


def _respond_describe(self: ConnectResponse) -> str:
    config = self.connect_backend.describe_instance_storage_config(  # type: ignore[attr-defined]
        instance_id=self._get_instance_id(),
        association_id=_association_id(self),
        resource_type=self._get_param("resourceType"),
    )
    return json.dumps({"StorageConfig": config})


def _respond_update(self: ConnectResponse) -> str:
    self.connect_backend.update_instance_storage_config(  # type: ignore[attr-defined]
        instance_id=self._get_instance_id(),
        association_id=_association_id(self),
        resource_type=self._get_param("resourceType"),
        storage_config=_body(self).get("StorageConfig"),
    )
    return "{}"


def _respond_disassociate(self: ConnectResponse) -> str:
    self.connect_backend.disassociate_instance_storage_config(  # type: ignore[attr-defined]
        instance_id=self._get_instance_id(),
        association_id=_association_id(self),
        resource_type=self._get_param("resourceType"),
    )
    return "{}"


def _respond_list(self: ConnectResponse) -> str:
    configs: list[dict[str, Any]]
    token: str | None
    configs, token = self.connect_backend.list_instance_storage_configs(  # type: ignore[attr-defined]
        instance_id=self._get_instance_id(),
        resource_type=self._get_param("resourceType"),
        max_results=self._get_int_param("maxResults"),
        next_token=self._get_param("nextToken"),
    )
    response: dict[str, Any] = {"StorageConfigs": configs}
    if token:
        response["NextToken"] = token
    return json.dumps(response)


_BACKEND_METHODS: dict[str, Callable[..., Any]] = {
    "associate_instance_storage_config": associate_instance_storage_config,
    "describe_instance_storage_config": describe_instance_storage_config,
    "update_instance_storage_config": update_instance_storage_config,
    "disassociate_instance_storage_config": disassociate_instance_storage_config,
    "list_instance_storage_configs": list_instance_storage_configs,
}
_RESPONSE_METHODS: dict[str, Callable[[ConnectResponse], str]] = {
    "associate_instance_storage_config": _respond_associate,
    "describe_instance_storage_config": _respond_describe,
    "update_instance_storage_config": _respond_update,
    "disassociate_instance_storage_config": _respond_disassociate,
    "list_instance_storage_configs": _respond_list,
}


# --------------------------------------------------------------------------------------------
# Moto server: refresh a Connect app cached before install()
# --------------------------------------------------------------------------------------------


def _has_storage_routes(app: Any) -> bool:
    return any(rule.rule.endswith("/storage-configs") for rule in app.url_map.iter_rules())


def _wrap_get_application(original: Callable[..., Any]) -> Callable[..., Any]:
    """Rebuild a moto-server Connect app that was created before install().

    ``DomainDispatcherApplication`` builds one Flask app per service on its first request and
    caches it with the URL map of that moment. Installing before that first request is enough;
    this wrapper covers a server that already answered a Connect call: the stale app is
    replaced once (apps hold no state; the backends are global), then marked as checked.
    """

    def get_application(self: DomainDispatcherApplication, environ: dict[str, Any]) -> Any:
        app = original(self, environ)
        if getattr(app, "service", None) != "connect" or getattr(app, _PATCH_MARKER, False):
            return app
        with self.lock:
            if not _has_storage_routes(app):
                fresh = self.create_app("connect")
                for key, cached in list(self.app_instances.items()):
                    if cached is app:
                        self.app_instances[key] = fresh
                app = fresh
            setattr(app, _PATCH_MARKER, True)
        return app

    setattr(get_application, _PATCH_MARKER, True)
    return get_application


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def install() -> None:
    """Patch moto's Connect backend, response handler and URL table; safe to call repeatedly.

    Must run before the first request that needs the new APIs. For ``mock_aws`` any time before
    the call is fine (moto reads ``url_paths`` on every request); for ``ThreadedMotoServer`` too,
    since a Connect app cached earlier is rebuilt on its next request.
    """
    with _INSTALL_LOCK:
        for name, function in _BACKEND_METHODS.items():
            setattr(ConnectBackend, name, function)
        for name, handler in _RESPONSE_METHODS.items():
            setattr(ConnectResponse, name, handler)
        # Re-inserting keeps them in order and is a no-op for existing keys.
        connect_urls.url_paths.update(URL_PATHS)

        # The wrappers below must wrap moto's original exactly once, hence the marker check.
        if not getattr(ConnectBackend.delete_instance, _PATCH_MARKER, False):
            ConnectBackend.delete_instance = _wrap_delete_instance(  # type: ignore[method-assign]
                ConnectBackend.delete_instance
            )
        for method in ("to_dict", "to_summary_dict"):
            if not getattr(getattr(Instance, method), _PATCH_MARKER, False):
                setattr(Instance, method, _wrap_instance_dict(getattr(Instance, method)))
        if not getattr(DomainDispatcherApplication.get_application, _PATCH_MARKER, False):
            DomainDispatcherApplication.get_application = _wrap_get_application(  # type: ignore[method-assign]
                DomainDispatcherApplication.get_application
            )


def _backend_instance(instance_id: str, account_id: str, region: str) -> Instance:
    return _resolve_instance(connect_backends[account_id][region], instance_id)


def set_service_role(
    instance_id: str,
    role_arn: str,
    account_id: str = ACCOUNT,
    region: str = REGION,
) -> None:
    """Set an instance's ServiceRole.

    moto always reports ``.../AWSServiceRoleForAmazonConnect`` with no suffix, while real roles
    are ``arn:aws:iam::<acct>:role/aws-service-role/connect.amazonaws.com/
    AWSServiceRoleForAmazonConnect_<suffix>``; tests of the bucket policy need the real form.
    ``instance_id`` may be an id or an ARN. Works for ``mock_aws`` and the in-process server.
    """
    _backend_instance(instance_id, account_id, region).service_role = role_arn


def clear_service_role(
    instance_id: str,
    account_id: str = ACCOUNT,
    region: str = REGION,
) -> None:
    """Remove the ServiceRole, as on an instance still being created (needs ``install()``).

    DescribeInstance and ListInstances then omit the ``ServiceRole`` key entirely.
    """
    instance = _backend_instance(instance_id, account_id, region)
    # moto annotates service_role as str; None is the "absent" state the patched to_dict omits.
    instance.service_role = None  # type: ignore[assignment]


def set_instance_status(
    instance_id: str,
    status: str,
    account_id: str = ACCOUNT,
    region: str = REGION,
) -> None:
    """Set InstanceStatus (moto always says ACTIVE), e.g. to CREATION_IN_PROGRESS or CREATION_FAILED."""
    if status not in INSTANCE_STATUSES:
        raise ValueError(f"status must be one of {sorted(INSTANCE_STATUSES)}, not {status!r}")
    _backend_instance(instance_id, account_id, region).instance_status = status
