"""Component tests: the library and the handler on in-process moto (no sockets)."""

from tests.support.fixtures import world

__all__ = ["world"]
