"""An embedded moto server on 127.0.0.1, with the Connect storage-config extension installed."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

from devtools import connect_storage


@contextmanager
def moto_server() -> Iterator[str]:
    """Start a ThreadedMotoServer on a free loopback port; yield its endpoint URL; stop it."""
    connect_storage.install()
    # werkzeug logs every request at INFO; a demo or a test run wants only the story.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset(endpoint: str) -> None:
    """Empty every backend: the server shares moto's state with the rest of the process."""
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=10)
