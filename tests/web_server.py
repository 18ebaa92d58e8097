"""`ungebot web --demo` in a process of its own on 127.0.0.1, for the tests that need the real server (uvicorn)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Server:
    """`ungebot web --demo` in its own process; stop() ends it (and kills it if it will not stop)."""

    def __init__(self, database: Path, port: int) -> None:
        self.database, self.port = database, port
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, "UNGEBOT_DB": str(self.database), "UNGEBOT_TODAY": "2026-01-15",
               "UNGEBOT_MUNICIPALITY": "Testkommune", "UNGEBOT_WEB_ASSETS": str(ROOT / "node_modules")}
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "web", "--demo", "--port", str(self.port)],
                                        env=env, cwd=self.database.parent, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                assert self.process.poll() is None, "the server stopped at start-up"
                time.sleep(0.05)
        raise AssertionError("the server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


def exchange(port: int, reads: list[bytes]) -> bytes:
    """Send `reads` on one new connection to 127.0.0.1:`port` (a pause after each, when several) and read until the
    server closes it, or until one response with a Content-Length is whole."""
    with socket.create_connection(("127.0.0.1", port), 10) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.settimeout(10)
        for read in reads:
            try:
                connection.sendall(read)
            except OSError:  # the server closed the connection while the rest was still being sent
                break
            if len(reads) > 1:
                time.sleep(0.02)
        received = b""
        while True:
            try:
                chunk = connection.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            received += chunk
            head, _, body = received.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), None)
            if length is not None and len(body) >= length:
                break
        return received


def get(header: bytes, close: bool = True) -> bytes:
    """A GET of the front page with a filler header of these bytes."""
    return (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + header + b"\r\n"
            + (b"Connection: close\r\n" if close else b"") + b"\r\n")
