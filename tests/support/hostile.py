"""Hostile and broken events: mutations of the real event shapes, and random JSON.

`HostileEvents(seed, ...)` yields events built from the fixtures in events/: keys dropped, nulled or retyped,
strings huge or non-ASCII, nesting deepened, lists where objects belong, the fields the enforcer reads
(bucket names, instance ids, sources, event names, error codes, the actor) replaced with lies and near misses;
and, now and then, random JSON. Everything a JSON parser can produce (as the Lambda runtime parses the event)
and nothing more: nesting stays below the depth Python's json module accepts.
"""

from __future__ import annotations

import copy
import random
import string
import uuid
from collections.abc import Iterator
from typing import Any

from devtools.events import fixture_names, load_event

# The Lambda runtime parses the event with Python's json module, which gives up a little under 1,000 levels.
MAX_DEPTH = 900
HUGE = 1_000_000

ODD_TEXT = [
    "",
    " ",
    "\x00",
    "\u202eevil\u202c",  # right-to-left override
    "\u200b",  # zero-width space
    "e\u0301",  # combining accent
    "💥🪣🔒",
    "\u0430\u043c\u0430\u0437\u043e\u043d",  # Cyrillic
    "\ud800",  # a lone surrogate, from the JSON escape \ud800
    "\udfff\ud800",
    "İ",
    "ß",
    "\\u0000",
    "${aws:username}",
    "' OR 1=1 --",
    "../../etc/passwd",
    "%00",
    "null",
    "NaN",
]


class HostileEvents:
    """A reproducible stream of hostile events for one estate (its real bucket, instance and enforcer role)."""

    def __init__(
        self,
        seed: int,
        *,
        connect_bucket: str,
        decoy_bucket: str,
        instance_id: str,
        enforcer_session_arn: str,
        huge: int = HUGE,
    ) -> None:
        self.random = random.Random(seed)
        self.connect_bucket = connect_bucket
        self.decoy_bucket = decoy_bucket
        self.instance_id = instance_id
        self.enforcer_session_arn = enforcer_session_arn
        self.huge = huge
        self.seeds = [load_event(name) for name in fixture_names()]

    # --- the stream -------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Any]:
        while True:
            yield self.next_event()

    def next_event(self) -> Any:
        rnd = self.random
        if rnd.random() < 0.08:
            return self.random_json(rnd.randint(0, 4))
        event = self._seed_event()
        for _ in range(rnd.choice([0, 1, 1, 1, 2, 2, 3, 4])):
            event = self.mutate(event)
        return event

    def _seed_event(self) -> Any:
        rnd = self.random
        event = copy.deepcopy(rnd.choice(self.seeds))
        bucket = rnd.choice([self.connect_bucket, self.decoy_bucket, self.decoy_bucket, self._bucket_lie()])
        instance_id = rnd.choice([self.instance_id, self.instance_id, str(uuid.UUID(int=rnd.getrandbits(128)))])
        return _replace_strings(
            event,
            {"amazon-connect-25fd0a3be3ef": bucket, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee": instance_id},
        )

    # --- mutations --------------------------------------------------------------------------------

    def mutate(self, event: Any) -> Any:
        rnd = self.random
        operation = rnd.choice(
            [
                self._drop,
                self._null,
                self._retype,
                self._huge_string,
                self._odd_string,
                self._deepen,
                self._list_for_object,
                self._lie,
                self._lie,
                self._lie,
            ]
        )
        return operation(event)

    def _paths(self, event: Any) -> list[tuple[Any, Any]]:
        """(container, key) of every value in the event, the root excluded."""
        paths: list[tuple[Any, Any]] = []
        stack = [event]
        while stack:
            node = stack.pop()
            if isinstance(node, dict):
                items: Any = node.items()
            elif isinstance(node, list):
                items = enumerate(node)
            else:
                continue
            for key, value in items:
                paths.append((node, key))
                if len(paths) < 2000:
                    stack.append(value)
        return paths

    def _pick(self, event: Any) -> tuple[Any, Any] | None:
        paths = self._paths(event)
        return self.random.choice(paths) if paths else None

    def _drop(self, event: Any) -> Any:
        picked = self._pick(event)
        if picked is not None:
            container, key = picked
            del container[key]
        return event

    def _null(self, event: Any) -> Any:
        return self._set(event, None)

    def _retype(self, event: Any) -> Any:
        return self._set(event, self.random_json(self.random.randint(0, 2)))

    def _huge_string(self, event: Any) -> Any:
        rnd = self.random
        size = rnd.choice([self.huge, self.huge // 10, 70_000, 4_096])
        return self._set(event, rnd.choice(string.ascii_letters + "é💥") * size)

    def _odd_string(self, event: Any) -> Any:
        rnd = self.random
        text = "".join(rnd.choice(ODD_TEXT) for _ in range(rnd.randint(1, 3)))
        picked = self._pick(event)
        if picked is not None:
            container, key = picked
            value = container[key]
            container[key] = (value + text if rnd.random() < 0.5 else text + value) if isinstance(value, str) else text
        return event

    def _deepen(self, event: Any) -> Any:
        rnd = self.random
        depth = rnd.choice([2, 10, 100, MAX_DEPTH - 10])
        picked = self._pick(event)
        if picked is None:
            return event
        container, key = picked
        value = container[key]
        for _ in range(depth):
            value = [value] if rnd.random() < 0.5 else {"detail": value}
        container[key] = value
        return event

    def _list_for_object(self, event: Any) -> Any:
        dicts = [(c, k) for c, k in self._paths(event) if isinstance(c[k], dict)]
        if not dicts:
            return [event]
        container, key = self.random.choice(dicts)
        value = container[key]
        container[key] = self.random.choice([[value], list(value.values()), list(value.items()), []])
        return event

    def _set(self, event: Any, value: Any) -> Any:
        picked = self._pick(event)
        if picked is None:
            return value
        container, key = picked
        container[key] = value
        return event

    # --- lies: plausible values in the fields the enforcer reads ------------------------------------

    def _bucket_lie(self) -> str:
        rnd = self.random
        connect = self.connect_bucket
        return rnd.choice(
            [
                self.decoy_bucket,
                connect.upper(),
                connect + ".",
                connect + "-",
                "\u0430" + connect[1:],  # a Cyrillic a
                connect + "/../" + self.decoy_bucket,
                f"arn:aws:s3:::{connect}",
                connect[:-1],
                connect + "x",
                "x" * 64,
                "ab",
                "192.168.5.4",
                f"{connect}..{self.decoy_bucket}",
                f" {connect}",
                "".join(rnd.choices(string.ascii_lowercase + string.digits + "-.", k=rnd.randint(3, 63))),
            ]
        )

    def _instance_lie(self) -> str:
        rnd = self.random
        other = str(uuid.UUID(int=rnd.getrandbits(128)))
        own = self.instance_id
        return rnd.choice(
            [
                other,
                own.upper(),
                own + " ",
                f"arn:aws:connect:us-east-1:999999999999:instance/{own}",
                f"arn:aws:connect:eu-west-1:123456789012:instance/{own}",
                f"arn%3Aaws%3Aconnect%3Aus-east-1%3A123456789012%3Ainstance%2F{own}",
                f"arn:aws:connect:us-east-1:123456789012:instance/{own}/contact-flow/x",
                "***",
                "HIDDEN_DUE_TO_SECURITY_REASONS",
                own[:-1],
                "%" * 600,
            ]
        )

    def _lie(self, event: Any) -> Any:
        rnd = self.random
        if not isinstance(event, dict):
            return event
        detail = event.get("detail")
        if not isinstance(detail, dict):
            detail = event["detail"] = {}
        field = rnd.choice(
            ["bucket", "bucket", "instance", "instance", "source", "name", "type", "error", "actor", "response"]
        )
        parameters = detail.get("requestParameters")
        if not isinstance(parameters, dict):
            parameters = detail["requestParameters"] = {}
        if field == "bucket":
            parameters["bucketName"] = self._bucket_lie()
            if rnd.random() < 0.3:
                parameters["StorageConfig"] = {"StorageType": "S3", "S3Config": {"BucketName": self.decoy_bucket}}
        elif field == "instance":
            parameters["InstanceId"] = self._instance_lie()
        elif field == "source":
            event["source"] = rnd.choice(["aws.s3", "aws.connect", "aws.events", "aws.iam", "connect-lockdown"])
            detail["eventSource"] = rnd.choice(
                ["s3.amazonaws.com", "connect.amazonaws.com", "S3.amazonaws.com", "iam.amazonaws.com"]
            )
        elif field == "name":
            detail["eventName"] = rnd.choice(
                [
                    "PutBucketPolicy",
                    "DeleteBucketPolicy",
                    "CreateInstance",
                    "AssociateInstanceStorageConfig",
                    "DeleteInstance",
                    "putbucketpolicy",
                    "PutBucketPolicy ",
                    "PutBucketAcl",
                ]
            )
        elif field == "type":
            event["detail-type"] = rnd.choice(
                [
                    "AWS API Call via CloudTrail",
                    "Scheduled Event",
                    "Connect Lockdown Recheck",
                    "AWS Service Event via CloudTrail",
                    "aws api call via cloudtrail",
                ]
            )
        elif field == "error":
            detail[rnd.choice(["errorCode", "errorMessage"])] = rnd.choice(["AccessDenied", "", 0, False, [], {}])
        elif field == "actor":
            identity = detail.get("userIdentity")
            if not isinstance(identity, dict):
                identity = detail["userIdentity"] = {}
            identity["arn"] = rnd.choice(
                [self.enforcer_session_arn, self.enforcer_session_arn.upper(), "arn:aws:sts::123456789012:root"]
            )
        else:
            detail["responseElements"] = rnd.choice(
                [
                    {"Id": self.instance_id},
                    {"Arn": f"arn:aws:connect:us-east-1:123456789012:instance/{self._instance_lie()}"},
                    {"Id": None},
                    [],
                    "***",
                ]
            )
        return event

    # --- random JSON -----------------------------------------------------------------------------

    def random_json(self, depth: int) -> Any:
        rnd = self.random
        kinds = ["null", "bool", "int", "float", "str"] + (["list", "dict"] if depth > 0 else [])
        kind = rnd.choice(kinds)
        if kind == "null":
            return None
        if kind == "bool":
            return rnd.random() < 0.5
        if kind == "int":
            return rnd.choice([0, -1, 2**63, -(2**63), 10**300, rnd.randint(-1000, 1000)])
        if kind == "float":
            return rnd.choice([0.0, -0.0, 1e308, -1e-308, 0.1, rnd.uniform(-1e6, 1e6)])
        if kind == "str":
            return rnd.choice([*ODD_TEXT, "detail-type", "Scheduled Event", "AWS API Call via CloudTrail"])
        if kind == "list":
            return [self.random_json(depth - 1) for _ in range(rnd.randint(0, 4))]
        keys = ["detail-type", "detail", "source", "id", "time", "eventName", "bucketName", *ODD_TEXT[:6]]
        return {rnd.choice(keys): self.random_json(depth - 1) for _ in range(rnd.randint(0, 5))}


def _replace_strings(value: Any, replacements: dict[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [_replace_strings(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: _replace_strings(v, replacements) for k, v in value.items()}
    return value


def depth_of(value: Any) -> int:
    """Nesting depth, without recursion (the value may be as deep as JSON allows)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest
