"""A server on 127.0.0.1 served from a thread for the length of a `with` block (the test's fake endpoints)."""

from __future__ import annotations

import threading
from typing import Any, Self


class Served:
    """Mixed into a fake that sets `self.server` (a socketserver server): `with fake:` serves it, then stops it."""

    server: Any

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
