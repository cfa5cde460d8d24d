"""Reliability tests at `make test` scale; `make soak` scales them up (docs/reliability.md)."""

from tests.support.fixtures import world

__all__ = ["world"]
