"""The real server's HTTP (uvicorn with httptools, bot/channels/web/http.py): a request whose head runs past the bound
is refused with 400 and its connection closed, as uvicorn's h11 would; heads within it, and bodies of any size the
app allows (in the same packet as the head, too), go through."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.channels.web.http import HEAD_LIMIT
from tests.web_server import Server, free_port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(Path(tmp_path_factory.mktemp("http")) / "ungebot.db", free_port())
    running.start()
    try:
        yield running
    finally:
        running.stop()


def exchange(server: Server, request: bytes) -> bytes:
    """Send `request` on a new connection and read until the server closes it or has answered one response."""
    with socket.create_connection(("127.0.0.1", server.port), 10) as connection:
        connection.settimeout(10)
        try:
            connection.sendall(request)
        except OSError:  # the server closed the connection while the rest was still being sent
            pass
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


def get(header: bytes) -> bytes:
    return b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + header + b"\r\nConnection: close\r\n\r\n"


def test_a_head_past_the_bound_is_refused_and_one_within_it_is_served(server: Server) -> None:
    assert exchange(server, get(b"x" * 8_000)).startswith(b"HTTP/1.1 200 ")
    refused = exchange(server, get(b"x" * (HEAD_LIMIT + 1_000)))
    assert refused.startswith(b"HTTP/1.1 400 ")
    refused = exchange(server, get(b"x" * 5_000_000))  # sent in many reads: refused once the bound is passed
    assert refused.startswith(b"HTTP/1.1 400 ")
    assert exchange(server, get(b"x" * 100)).startswith(b"HTTP/1.1 200 ")  # the server is still there


def test_a_body_is_not_counted_as_head_even_in_the_same_packet(server: Server) -> None:
    body = b"text=" + b"a" * 60_000  # within the app's 64 KiB: refused by the app for its missing CSRF, not by HTTP
    request = (b"POST /svar HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    assert exchange(server, request).startswith(b"HTTP/1.1 403 ")


def test_a_head_is_counted_per_request_on_a_kept_connection_and_its_end_may_come_split(server: Server) -> None:
    small = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: " + b"x" * (HEAD_LIMIT // 2) + b"\r\n"
    with socket.create_connection(("127.0.0.1", server.port), 10) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection.settimeout(10)
        for _ in range(3):  # each request's head is half the bound: together they are past it, each alone is not
            connection.sendall(small + b"\r")  # the head's end split over two reads
            time.sleep(0.05)
            connection.sendall(b"\n")
            response = b""
            while b"</html>" not in response:
                chunk = connection.recv(65536)
                assert chunk, response[:200]
                response += chunk
            assert response.startswith(b"HTTP/1.1 200 ")
