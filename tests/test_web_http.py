"""The real server's HTTP (`ungebot web` on uvicorn with h11, chosen explicitly): a request's head, or a chunked
request's trailers, still incomplete after h11's bound of buffered bytes is refused with 400, whatever else is
installed (uvicorn's httptools would keep a head of any size in memory). The bound is on what is buffered, so a head
that comes whole in one read of the socket (up to 256 KiB here) is taken; anything longer is refused. Heads within
it, and bodies of any size the app allows, go through."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_star import free_port
from tests.web_server import Server, exchange, get

HEAD_LIMIT = 16 * 1024  # h11's bound on an incomplete event (uvicorn's default for it)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(Path(tmp_path_factory.mktemp("http")) / "ungebot.db", free_port())
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_a_head_past_the_bound_is_refused_and_one_within_it_is_served(server: Server) -> None:
    assert exchange(server.port, [get(b"x" * 8_000)]).startswith(b"HTTP/1.1 200 ")
    assert exchange(server.port, [get(b"x" * 1_000_000)]).startswith(b"HTTP/1.1 400 ")
    assert exchange(server.port, [get(b"x" * 5_000_000)]).startswith(b"HTTP/1.1 400 ")
    parts = [get(b"x" * (HEAD_LIMIT + 1_000))[:HEAD_LIMIT + 100]] + [b"x" * 1_000] * 3  # in reads of its own
    assert exchange(server.port, parts).startswith(b"HTTP/1.1 400 ")
    assert exchange(server.port, [get(b"x" * 100)]).startswith(b"HTTP/1.1 200 ")  # the server is still there


def test_trailers_past_the_bound_are_refused(server: Server) -> None:
    head = (b"POST /svar HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n5\r\ntext=\r\n0\r\n")
    assert exchange(server.port, [head] + [b"a: b\r\n" * 10_000] * 8).startswith(b"HTTP/1.1 400 ")


def test_a_body_in_the_heads_packet_and_heads_on_a_kept_connection_go_through(server: Server) -> None:
    body = b"text=" + b"a" * 60_000  # within the app's 64 KiB: refused by the app for its missing CSRF, not by HTTP
    request = (b"POST /svar HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
               b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
    assert exchange(server.port, [request]).startswith(b"HTTP/1.1 403 ")
    half = get(b"x" * (HEAD_LIMIT // 2), close=False)  # each request's head alone is within the bound
    with socket.create_connection(("127.0.0.1", server.port), 10) as connection:
        connection.settimeout(10)
        for _ in range(3):
            connection.sendall(half)
            response = b""
            while b"</html>" not in response:
                chunk = connection.recv(65536)
                assert chunk, response[:200]
                response += chunk
            assert response.startswith(b"HTTP/1.1 200 ")
