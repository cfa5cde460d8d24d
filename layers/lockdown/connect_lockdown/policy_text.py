"""The text of a bucket policy: parsed so that a repeated JSON key is seen, and written compactly.

Pure, like the rest of the policy algebra (`policy.py`, which re-exports these names).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

# The Sid of the lockdown statement: how the enforcer tells its own statement from everyone else's.
LOCKDOWN_SID = "ConnectBucketLockdown"


class PolicyError(ValueError):
    """The bucket's current policy cannot be understood, so it cannot be merged without losing data."""


class ParsedPolicy(dict[str, Any]):
    """A bucket policy as read. `duplicate_keys` names every JSON key that appeared twice in one object (as
    `Statement[0].Condition.StringNotLike.aws:userId`): such a text can be read more than one way, and which copy
    IAM uses is not documented, so the policy is never equivalent to another (see `equivalent`)."""

    duplicate_keys: tuple[str, ...] = ()


class _Duplicated(dict[str, Any]):
    """A JSON object with a repeated key while parsing: the last copy of each key, and every copy."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.copies: dict[str, list[Any]] = {}
        for key, value in pairs:
            self.copies.setdefault(key, []).append(value)
        self.copies = {key: values for key, values in self.copies.items() if len(values) > 1}


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len({key for key, _ in pairs}) == len(pairs):
        return dict(pairs)
    return _Duplicated(pairs)


def _plain(node: Any, path: str, found: list[str]) -> Any:
    """`node` with every `_Duplicated` object turned into a plain dict (its last copies), naming each
    duplicated key in `found`."""
    if isinstance(node, list):
        return [_plain(item, f"{path}[{index}]", found) for index, item in enumerate(node)]
    if not isinstance(node, dict):
        return node
    if isinstance(node, _Duplicated):
        found.extend(f"{path}.{key}" if path else key for key in node.copies)
    plain = {key: _plain(value, f"{path}.{key}" if path else key, found) for key, value in node.items()}
    if isinstance(node, _Duplicated) and "Sid" in node.copies and plain.get("Sid") == LOCKDOWN_SID:
        others = [sid for sid in node.copies["Sid"] if sid != LOCKDOWN_SID]
        if others:
            # One copy says this is the lock, another that it is not: keep it as somebody else's statement.
            # A rewrite replaces the lock; it must never drop a statement that may not be the lock.
            plain["Sid"] = others[0]
    return plain


def _all_statements(document: _Duplicated, found: list[str]) -> list[Any]:
    """Every statement of every copy of a duplicated `Statement`, each distinct statement once, in order."""
    combined: list[Any] = []
    seen: list[Any] = []
    for index, copy_ in enumerate(document.copies["Statement"]):
        items = copy_ if isinstance(copy_, list) else [copy_]
        for item in _plain(items, f"Statement(copy {index + 1})", found):
            # Identical statements once; two that differ in any way are both kept (lose nothing).
            key = json.dumps(item, sort_keys=True)
            if key not in seen:
                seen.append(key)
                combined.append(item)
    return combined


def parse_policy(text: str | None) -> ParsedPolicy | None:
    """Parse a policy document as S3 returns it. None means the bucket has no policy.

    Python's json keeps the last copy of a repeated key silently; IAM does not document which copy it reads. So
    every repeated key is recorded in `duplicate_keys` (the policy is then drift, never compliant) and the
    result keeps one copy of each:
    - a repeated top-level `Statement`: the statements of every copy, each distinct one once, so that a rewrite
      loses none of them;
    - any other repeated key: the last copy, the one JSON parsers (and so the console and the CLI) show, so the
      rewritten policy says explicitly what those tools already showed. The lock itself is rebuilt from what
      AWS says about the bucket's principals, never from this text, so no copy can change who it admits; and a
      statement whose repeated `Sid` is the lock's in one copy only is kept as a foreign statement.
    """
    if text is None:
        return None
    try:
        document = json.loads(text, object_pairs_hook=_object)
    except ValueError as error:
        raise PolicyError(f"the current bucket policy is not valid JSON ({error})") from error
    if not isinstance(document, dict):
        raise PolicyError("the current bucket policy is not a JSON object")
    found: list[str] = []
    statements: Any = None
    if isinstance(document, _Duplicated) and "Statement" in document.copies:
        statements = _all_statements(document, found)
        found.extend(document.copies)
        document = dict(document)
        document["Statement"] = statements
    parsed = ParsedPolicy(cast(dict[str, Any], _plain(document, "", found)))
    parsed.duplicate_keys = tuple(sorted(set(found), key=found.index))
    statements = parsed.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        raise PolicyError("the current bucket policy has no list of statement objects")
    return parsed


def duplicate_keys_of(policy: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The keys that appeared more than once in the text the policy was parsed from (see `parse_policy`)."""
    return policy.duplicate_keys if isinstance(policy, ParsedPolicy) else ()


def serialise(policy: Mapping[str, Any]) -> str:
    """The compact text that is written to S3 and measured against its size limit.

    Non-ASCII characters are written as themselves (smaller), except when the policy holds a lone surrogate
    (read from a JSON escape such as \\ud800), which UTF-8 cannot encode: then every non-ASCII character is
    written as the JSON escape, which reads back the same.
    """
    text = json.dumps(policy, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(policy, separators=(",", ":"), ensure_ascii=True)
    return text


def policy_size(policy: Mapping[str, Any]) -> int:
    return len(serialise(policy).encode("utf-8"))
