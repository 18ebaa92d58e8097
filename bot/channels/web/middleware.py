"""Server-side sessions (SQLite, random token in a Secure/HttpOnly/SameSite cookie), security headers, rate limits."""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections import OrderedDict, deque
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels.web.locks import KeyedLocks
from storage.sessions import append_entries, delete_session, encode, load_entries, load_session, save_session

COOKIE = "ungebot_session"
# Microsoft Teams shows a pinned web page as a tab in a frame from these origins.
TEAMS_ORIGINS = ("https://teams.microsoft.com", "https://*.teams.microsoft.com", "https://*.cloud.microsoft",
                 "https://*.office.com", "https://*.skype.com")


LEGACY_KEYS = ("transcript", "learn")  # the messages, kept in the session's data before web_transcript
TRANSCRIPT_LIMIT = 120  # messages kept per pane; the dialogue itself is in the dialogues table


class Session(dict[str, Any]):
    """The session's data; `token` is the cookie's value (None until first saved), `snapshot` what was loaded.

    The page's messages (a pane: "chat", "learn") are rows of their own, appended as they come (see `add`): an
    answer writes its new messages, not the whole transcript again. The data keeps each pane's next row number."""

    def __init__(self, data: dict[str, Any], token: str | None, conn: sqlite3.Connection | None = None,
                 stored: str | None = None) -> None:
        super().__init__(data)
        self.token, self.conn = token, conn
        self.snapshot = stored if stored is not None else encode(data)  # the text on disk
        self.rotate = False
        self._pending: dict[str, list[dict[str, Any]]] = {}  # messages added, not yet written

    def started(self, pane: str) -> bool:
        """True once the pane has had its first messages."""
        return pane in self.get("panes", {})

    def add(self, pane: str, entries: list[dict[str, Any]]) -> None:
        """Add messages to a pane; they are written with the session (in the same transaction)."""
        self["panes"] = {**self.get("panes", {}), pane: self.get("panes", {}).get(pane, 0) + len(entries)}
        self._pending.setdefault(pane, []).extend(entries)

    def transcript(self, pane: str) -> list[dict[str, Any]]:
        """The pane's last TRANSCRIPT_LIMIT messages, oldest first."""
        stored = load_entries(self.conn, self.token, pane, TRANSCRIPT_LIMIT) if self.token and self.conn is not None else []
        return (stored + self._pending.get(pane, []))[-TRANSCRIPT_LIMIT:]

    def clear(self) -> None:
        """Forget the data and the messages not yet written (the rows written stay with the old token)."""
        super().clear()
        self._pending.clear()

    def renew(self) -> None:
        """A new token at login, so a token planted before the login is worth nothing after it."""
        self.rotate = True

    def detach(self) -> None:
        """Start a new, empty session under a new token and leave the stored one alone (it is someone else's)."""
        self.clear()
        self.token, self.rotate = None, False

    def changed(self) -> bool:
        """True when the data differs from what is on disk."""
        return bool(self._pending) or encode(self) != self.snapshot

    def persist(self, conn: sqlite3.Connection, lifetime: timedelta, commit: bool = True) -> None:
        """Write the session (a new token if it has none or must rotate); with commit=False the caller commits."""
        if self.rotate and self.token:
            delete_session(conn, self.token)
        if self.token is None or self.rotate:
            self.token, self.rotate = secrets.token_urlsafe(32), False
            self.fresh = True
        for pane, entries in self._pending.items():
            append_entries(conn, self.token, pane, self["panes"][pane] - len(entries), entries, TRANSCRIPT_LIMIT)
        self._pending.clear()
        text = encode(self)
        save_session(conn, self.token, text, datetime.now(timezone.utc), lifetime, commit=commit)
        self.snapshot = text

    fresh = False  # a token was made in this request: the cookie must be set
    ended = False  # logged out: delete the row, clear the cookie

    def end(self) -> None:
        """Log out: the session's row is deleted and the cookie cleared."""
        self.clear()
        self.ended = True


class SessionMiddleware:
    """Loads the session named by the cookie into scope['session'] and writes it back when it changed. Requests of
    one session are handled one at a time (each sees what the one before it wrote); other sessions' meanwhile."""

    def __init__(self, app: ASGIApp, conn: sqlite3.Connection, lifetime: timedelta, secure: bool = True,
                 same_site: str = "lax") -> None:
        self.app, self.conn, self.lifetime = app, conn, lifetime
        self.secure, self.same_site = secure, same_site
        self._sessions = KeyedLocks()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = HTTPConnection(scope).cookies.get(COOKIE)
        if not token:
            await self._handle(scope, receive, send, None)
            return
        async with self._sessions.hold(token):
            await self._handle(scope, receive, send, token)

    async def _handle(self, scope: Scope, receive: Receive, send: Send, token: str | None) -> None:
        found = load_session(self.conn, token, datetime.now(timezone.utc)) if token else None
        data = found[0] if found is not None else None
        if data is not None and ("transcript" in data or "learn" in data):  # kept in the session before m021
            data = {key: value for key, value in data.items() if key not in LEGACY_KEYS}
        session = Session(data or {}, token if data is not None else None, self.conn,
                          found[1] if found is not None else None)
        scope["session"] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if session.ended:
                    if session.token:
                        delete_session(self.conn, session.token)
                    headers.append("Set-Cookie", self._cookie(None))
                else:
                    if session.changed() or session.rotate:
                        session.persist(self.conn, self.lifetime)
                    if session.fresh:
                        headers.append("Set-Cookie", self._cookie(session.token))
                    elif token and data is None:  # an expired or unknown cookie is cleared
                        headers.append("Set-Cookie", self._cookie(None))
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _cookie(self, token: str | None) -> str:
        flags = f"Path=/; HttpOnly; SameSite={self.same_site}" + ("; Secure" if self.secure else "")
        if token is None:
            return f"{COOKIE}=; Max-Age=0; {flags}"
        return f"{COOKIE}={token}; Max-Age={int(self.lifetime.total_seconds())}; {flags}"


class SecurityHeaders:
    """CSP and friends on every response; framing only by Teams when that is switched on."""

    def __init__(self, app: ASGIApp, teams: bool = False, https: bool = True) -> None:
        self.app = app
        ancestors = " ".join(("'self'",) + TEAMS_ORIGINS) if teams else "'none'"
        csp = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
               f"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors {ancestors}")
        self.headers = [("Content-Security-Policy", csp), ("X-Content-Type-Options", "nosniff"),
                        ("Referrer-Policy", "same-origin"), ("Cross-Origin-Opener-Policy", "same-origin"),
                        ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
                        ("Cache-Control", "no-store")]
        if not teams:
            self.headers.append(("X-Frame-Options", "DENY"))
        if https:
            self.headers.append(("Strict-Transport-Security", "max-age=31536000"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers:
                    if static and name == "Cache-Control":
                        value = "public, max-age=3600"
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RateLimiter:
    """At most `count` events per `seconds` for each key (a user or an address), in memory, oldest keys forgotten."""

    def __init__(self, count: int, seconds: float, memory: int = 10_000) -> None:
        self.count, self.seconds, self.memory = count, seconds, memory
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, key: str) -> bool:
        """Count one event for the key; False when it is over the limit."""
        now = time.monotonic()
        events = self._events.setdefault(key, deque())
        self._events.move_to_end(key)
        while events and now - events[0] > self.seconds:
            events.popleft()
        if len(events) >= self.count:
            return False
        events.append(now)
        while len(self._events) > self.memory:
            self._events.popitem(last=False)
        return True


def csrf_token(connection: HTTPConnection) -> str:
    """The session's CSRF token (made on first use); every form carries it."""
    session = connection.scope["session"]
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return str(session["csrf"])


def check_csrf(connection: HTTPConnection, sent: str | None) -> None:
    """Refuse (403) a form whose token is not this session's."""
    expected = connection.scope["session"].get("csrf")
    if not expected or not sent or not secrets.compare_digest(str(expected), sent):
        raise HTTPException(403)
