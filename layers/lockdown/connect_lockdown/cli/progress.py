"""A single updating line on stderr, only when stderr is a terminal."""

from __future__ import annotations

import threading
from typing import TextIO


class Progress:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self._lock = threading.Lock()

    def __call__(self, index: int, total: int, bucket: str) -> None:
        """The core's per-bucket callback."""
        self.show(f"checking bucket {index}/{total}: {bucket}")

    def show(self, text: str) -> None:
        if self.enabled:
            with self._lock:
                self.stream.write("\r\033[K" + text[:100])
                self.stream.flush()

    def done(self) -> None:
        if self.enabled:
            with self._lock:
                self.stream.write("\r\033[K")
                self.stream.flush()
