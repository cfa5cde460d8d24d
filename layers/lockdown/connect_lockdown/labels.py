"""How the library names things for people: a Connect instance, a count of something."""

from __future__ import annotations


def instance_label(instance_id: str, alias: str | None) -> str:
    """ "alias (id)", or the id alone when the instance has no alias."""
    return f"{alias} ({instance_id})" if alias else instance_id


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """ "1 bucket", "2 buckets"; `nouns` for a plural that is not `noun` + s."""
    return f"{count} {noun}" if count == 1 else f"{count} {nouns or noun + 's'}"
