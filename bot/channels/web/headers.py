"""Security headers on every response (CSP and friends; framing only by Microsoft Teams when that is switched on), and
a request's header read from the raw headers."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Microsoft Teams shows a pinned web page as a tab in a frame from these origins.
TEAMS_ORIGINS = ("https://teams.microsoft.com", "https://*.teams.microsoft.com", "https://*.cloud.microsoft",
                 "https://*.office.com", "https://*.skype.com")


class SecurityHeaders:
    """CSP and friends on every response; framing only by Teams when that is switched on.

    A JSON response (chat.js's answers, fetched by the page) is never a document, so it gets the headers OWASP's REST
    cheat sheet asks of an API response (a CSP that allows nothing and no framing, nosniff, no-store, HSTS and, without
    Teams, X-Frame-Options) and not those that only govern a document (its sources, the referrer, the opener,
    browser features): fewer bytes for the server to write and chat.js to read on every answer."""

    def __init__(self, app: ASGIApp, teams: bool = False, https: bool = True) -> None:
        self.app = app
        ancestors = " ".join(("'self'",) + TEAMS_ORIGINS) if teams else "'none'"
        csp = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
               f"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}")
        common = [("X-Content-Type-Options", "nosniff"), ("Cache-Control", "no-store")]
        if not teams:
            common.append(("X-Frame-Options", "DENY"))
        if https:
            common.append(("Strict-Transport-Security", "max-age=31536000"))
        self.headers = [("Content-Security-Policy", csp), ("Referrer-Policy", "same-origin"),
                        ("Cross-Origin-Opener-Policy", "same-origin"),
                        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"), *common]
        self._raw = _raw(self.headers)
        self._raw_static = [(name, b"public, max-age=3600" if name == b"cache-control" else value)
                            for name, value in self._raw]
        self._raw_json = _raw([("Content-Security-Policy", f"default-src 'none'; frame-ancestors {ancestors}"),
                               *common])
        self._names = frozenset(name for name, _ in self._raw)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ours = self._raw_static if scope["path"].startswith("/static/") else self._raw
        names = self._names

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":  # ours after the response's own, which win
                headers = message.get("headers") or ()
                own, json = False, False
                for name, value in headers:
                    name = name.lower()
                    own = own or name in names
                    json = json or (name == b"content-type" and value.startswith(b"application/json"))
                added = self._raw_json if json else ours
                if own:
                    present = {name.lower() for name, _ in headers}
                    added = [(name, value) for name, value in added if name not in present]
                message["headers"] = [*headers, *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _raw(headers: list[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def first(scope: Scope, name: bytes) -> bytes | None:
    """A request header's value as Starlette's headers give it (the first of that name; `name` in lower case), read
    from the raw headers without building a Headers object (this is on every request's path)."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None
