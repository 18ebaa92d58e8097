"""The web's own reading of a submitted form: the same fields as Starlette's parser for every body, oversized bodies
refused, and forms of other kinds (multipart) still read by Starlette."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import pytest
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.formparsers import FormParser
from starlette.requests import Request

from bot.channels.web.formdata import BODY_LIMIT, parse_urlencoded, read_form
from tests.web_client import Browser, make_app

BODIES = [
    b"", b"&", b"&&", b"=", b"==", b"a", b"a=", b"=b", b"a=b=c", b"a=1&a=2&b=3&a=4", b"&a=1&&b=2&", b"a=1;b=2",
    b"csrf=AbC-_12&step=3&option=1", b"text=%C3%A6bler+og+p%C3%A6rer", b"text=a%2Bb%26c%3Dd", b"text=%zz%4%",
    b"text=%C3", b"text=%C3%28", b"text=%FF%FE", b"text=%00%0A%0D", b"text=\xc3\xa6\xe9", b"t%65xt=x", b"a+b=c+d",
    b"text=%F0%9F%98%80+%E2%82%AC", b"text=<script>alert(1)</script>&step=%22%3E", b"%=%", b"++=++",
    b"a=%2", b"name%3Dx=y",
]


def _starlette(body: bytes) -> dict[str, str]:
    async def stream() -> Any:
        yield body

    headers = Headers({"content-type": "application/x-www-form-urlencoded"})
    form = asyncio.run(FormParser(headers, stream()).parse())
    return {key: str(value) for key, value in form.items()}


@pytest.mark.parametrize("body", BODIES + [b"&".join(pair) for pair in itertools.permutations(BODIES[5:12], 2)])
def test_a_urlencoded_body_gives_what_starlettes_parser_gives(body: bytes) -> None:
    assert parse_urlencoded(body) == _starlette(body)
    assert list(parse_urlencoded(body)) == list(_starlette(body))  # the same order of fields too


def _request(body: bytes, headers: list[tuple[bytes, bytes]], chunks: int = 1) -> Request:
    size = max(1, -(-len(body) // chunks))
    parts = [body[at:at + size] for at in range(0, len(body), size)] or [b""]
    messages = [{"type": "http.request", "body": part, "more_body": n < len(parts) - 1}
                for n, part in enumerate(parts)]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return Request({"type": "http", "method": "POST", "headers": headers, "query_string": b""}, receive)


def test_a_body_read_in_parts_and_the_limit_on_its_size() -> None:
    kind = (b"content-type", b"application/x-www-form-urlencoded; charset=UTF-8")
    body = b"csrf=x&text=" + b"%C3%A6" * 1000
    assert asyncio.run(read_form(_request(body, [kind], chunks=7))) == {"csrf": "x", "text": "æ" * 1000}
    big = b"text=" + b"a" * BODY_LIMIT
    for headers in ([kind], [kind, (b"content-length", str(len(big)).encode())]):  # declared, or found reading it
        with pytest.raises(HTTPException) as refused:
            asyncio.run(read_form(_request(big, headers, chunks=3)))
        assert refused.value.status_code == 413
    with pytest.raises(HTTPException) as refused:
        asyncio.run(read_form(_request(b"a=1", [kind, (b"content-length", b"x")])))
    assert refused.value.status_code == 400


def test_forms_of_other_kinds_and_oversized_answers_through_the_app(rulebook: Any, private_database: Path) -> None:
    with Browser(make_app(private_database, rulebook)) as browser:
        browser.open()
        hidden = browser.hidden()
        # multipart/form-data (as chat.js sent until it sent URL-encoded): read by Starlette, the same answer
        sent = browser.client.post("/svar", files={"option": (None, "0"), **{k: (None, v) for k, v in hidden.items()}})
        assert sent.status_code == 303
        too_long = browser.client.post("/svar", data={**hidden, "text": "æ" * BODY_LIMIT})
        assert too_long.status_code == 413 and "Svaret var for langt" in too_long.text
        fetched = browser.client.post("/svar", data={**browser.hidden(), "text": "ø" * BODY_LIMIT},
                                      headers={"X-Ungebot-Fetch": "1"})
        assert fetched.status_code == 413 and "for langt" in fetched.json()["error"]


def test_every_kind_of_body_is_held_to_the_limit_and_a_declared_length_is_refused_unread() -> None:
    def unread(headers: list[tuple[bytes, bytes]]) -> Request:
        async def receive() -> dict[str, Any]:
            raise AssertionError("read although its declared length is over the limit")
        return Request({"type": "http", "method": "POST", "headers": headers, "query_string": b""}, receive)

    for kind in (b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x", b"text/plain"):
        with pytest.raises(HTTPException) as refused:
            asyncio.run(read_form(unread([(b"content-type", kind), (b"content-length", b"70000")])))
        assert refused.value.status_code == 413
    with pytest.raises(HTTPException) as refused:  # "²" is a digit to str.isdigit, not a length
        asyncio.run(read_form(unread([(b"content-length", "²".encode())])))
    assert refused.value.status_code == 400
    boundary = b"--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n"
    big = boundary + b"0" * BODY_LIMIT + b"\r\n--x--\r\n"
    with pytest.raises(HTTPException) as refused:  # undeclared: refused while it is read, never parsed
        asyncio.run(read_form(_request(big, [(b"content-type", b"multipart/form-data; boundary=x")], chunks=9)))
    assert refused.value.status_code == 413
    small = b"--x\r\nContent-Disposition: form-data; name=\"option\"\r\n\r\n2\r\n--x--\r\n"
    assert asyncio.run(read_form(_request(small, [(b"content-type", b"multipart/form-data; boundary=x")]))) == {
        "option": "2"}


def test_a_large_multipart_body_is_refused_before_any_login(rulebook: Any, private_database: Path) -> None:
    with Browser(make_app(private_database, rulebook)) as browser:
        refused = browser.client.post("/logout", files={"f": ("a", b"0" * (3 * BODY_LIMIT))})
        assert refused.status_code == 413


def test_a_csrf_token_that_is_not_ascii_is_refused_not_an_error(rulebook: Any, private_database: Path) -> None:
    with Browser(make_app(private_database, rulebook)) as browser:
        browser.open()
        sent = browser.client.post("/svar", data={**browser.hidden(), "csrf": "é", "option": "0"})
        assert sent.status_code == 403
