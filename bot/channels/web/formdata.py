"""A submitted form's fields. Our forms post a few short fields URL-encoded (browsers without JavaScript, and chat.js),
read here in a few µs: Starlette's parser (python-multipart's callbacks, a form object, a stream) cost some 50 µs
of every answer. Anything else (multipart, as an older chat.js sent) is read to the same limit first, then parsed by
Starlette from those bytes: no body of any kind is read past the limit."""

from __future__ import annotations

from urllib.parse import unquote_plus

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message, Scope

from bot.channels.web.headers import first

URLENCODED = "application/x-www-form-urlencoded"
BODY_LIMIT = 65_536  # bytes: the answer field's 4,000 characters URL-encoded fit several times over


async def read_form(request: Request, limit: int = BODY_LIMIT) -> dict[str, str]:
    """The form's fields (for a field sent twice, its last value, as Starlette's form gives it). A body over `limit`
    bytes is refused (413), by its declared length before it is read and while it is read; a declared length that is
    not a number, with 400."""
    content_type, length = _headers(request.scope)
    if length is not None and (not _number(length) or int(length) > limit):
        raise HTTPException(413 if _number(length) else 400)
    body = await _body(request, limit)
    if content_type.partition(";")[0].strip().lower() == URLENCODED:
        return parse_urlencoded(body)

    async def replay() -> Message:  # the body already read, for Starlette's parser
        return {"type": "http.request", "body": body, "more_body": False}

    return {key: str(value) for key, value in (await Request(request.scope, replay).form()).items()}


def _number(text: str) -> bool:
    return text.isascii() and text.isdigit()  # str.isdigit alone takes "²" too


def parse_urlencoded(body: bytes) -> dict[str, str]:
    """Fields of an application/x-www-form-urlencoded body, exactly as Starlette reads them: split at "&" (empty
    parts skipped), the name before the first "=", "+" a space, %XX escapes UTF-8 (invalid sequences replaced), other
    bytes Latin-1; a field without "=" has the empty value."""
    form: dict[str, str] = {}
    for part in body.decode("latin-1").split("&"):
        if part:
            name, _, value = part.partition("=")
            if "%" in part or "+" in part:  # (without either, unquote_plus gives the text as it is)
                name, value = unquote_plus(name), unquote_plus(value)
            form[name] = value
    return form


def _headers(scope: Scope) -> tuple[str, str | None]:
    """The request's Content-Type and Content-Length (the first of each), read from the raw headers."""
    content_type, length = first(scope, b"content-type"), first(scope, b"content-length")
    return (b"" if content_type is None else content_type).decode("latin-1"), (
        None if length is None else length.decode("latin-1").strip())


async def _body(request: Request, limit: int) -> bytes:
    """The request's body, read from the server's messages, refused (413) once it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise HTTPException(413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)
