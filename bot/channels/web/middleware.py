"""Server-side sessions (SQLite, random token in a Secure/HttpOnly/SameSite cookie), CSRF tokens, rate limits."""

from __future__ import annotations

import copy
import secrets
import sqlite3
import time
from collections import OrderedDict, deque
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.channels.web.headers import first
from bot.channels.web.locks import KeyedLocks
from bot.channels.web.render import Forms
from storage.sessions import append_turn, delete_session, last_turn, load_messages, load_session, save_session

COOKIE = "ungebot_session"
LEGACY_KEYS = ("transcript", "learn", "panes", "controls", "learn_controls")  # kept in the data before m024
TRANSCRIPT_LIMIT = 120  # messages shown per pane; the dialogue itself is in the dialogues table
TURNS_KEPT = TRANSCRIPT_LIMIT  # turns kept per pane (each has at least one message)
SESSIONS_KEPT = 10_000  # sessions kept in memory between requests (each is also on disk)
TOKENS_KEPT = 1024  # Cookie headers remembered with the session cookie's value in them
TOKEN_HEADER_KEPT = 512  # ... each at most this long (ours alone is ~60 bytes): at most 512 KiB in all
EXPIRY_SLACK = timedelta(minutes=5)  # the stored expiry is moved on when it is this much behind the idle lifetime
Pane = tuple[int, Forms]  # a pane's last turn: its number and the answer forms after it


class Session(dict[str, Any]):
    """The session's data (the user, the CSRF token); `token` is the cookie's value (None until first saved).

    The page's messages (a pane: "chat", "learn") are rows of their own, one per turn with the answer forms after
    it (see `add`): an answer writes its turn, and the session's row only when its data changed or its expiry is
    due to be moved on."""

    def __init__(self, data: dict[str, Any], token: str | None, conn: sqlite3.Connection | None = None,
                 expires: datetime | None = None) -> None:
        super().__init__(data)
        self.token, self.conn, self.expires = token, conn, expires
        self._saved = copy.deepcopy(data) if token else None  # the data as on disk
        self.rotate = False
        self._panes: dict[str, Pane | None] = {}  # each pane's last turn, read from disk on first use
        self._empty = token is None  # no turns on disk to read
        self._pending: list[tuple[str, int, list[str], Forms, str]] = []  # turns added, not yet written

    def _pane(self, pane: str) -> Pane | None:
        if pane not in self._panes:
            last = (None if self._empty or self.token is None or self.conn is None
                    else last_turn(self.conn, self.token, pane))
            self._panes[pane] = None if last is None else (last[0], Forms.read(last[1]))
        return self._panes[pane]

    def started(self, pane: str) -> bool:
        """True once the pane has had its first messages."""
        return self._pane(pane) is not None

    def controls(self, pane: str) -> Forms:
        """The answer forms after the pane's last turn."""
        last = self._pane(pane)
        assert last is not None, f"the {pane} pane has no turn yet"
        return last[1]

    def add(self, pane: str, messages: list[str], forms: Forms, array: str) -> None:
        """Add a turn to a pane: its messages (HTML; `array`: them as stored, Messages.array) and the answer forms
        after it; written with the session (in the same transaction as the turn's answer)."""
        last = self._pane(pane)
        seq = last[0] + 1 if last is not None else 0
        self._panes[pane] = (seq, forms)
        self._pending.append((pane, seq, messages, forms, array))

    def transcript(self, pane: str) -> list[str]:
        """The pane's last TRANSCRIPT_LIMIT messages (HTML), oldest first."""
        stored = (load_messages(self.conn, self.token, pane, TRANSCRIPT_LIMIT)
                  if self.token and self.conn is not None and not self._empty else [])
        return (stored + [html for name, _, messages, _, _ in self._pending if name == pane for html in messages])[
            -TRANSCRIPT_LIMIT:]

    def clear(self) -> None:
        """Forget the data and the turns (the rows written stay with the old token)."""
        super().clear()
        self._pending.clear()
        self._panes.clear()
        self._empty = True

    def renew(self) -> None:
        """A new token at login, so a token planted before the login is worth nothing after it."""
        self.rotate = True

    def detach(self) -> None:
        """Start a new, empty session under a new token and leave the stored one alone (it is someone else's)."""
        self.clear()
        self.token, self.rotate, self._saved, self.expires = None, False, None, None

    def changed(self, now: datetime, lifetime: timedelta) -> bool:
        """True when something must be written: new turns, new data, a new token, or the expiry is due to move on."""
        if self._pending or self.rotate:
            return True
        if self.token is None:  # a new session is written once it holds something
            return bool(self)
        return self._due(now, lifetime)

    def _due(self, now: datetime, lifetime: timedelta) -> bool:
        """The session's row must be written: its data changed, or its expiry is due to be moved on."""
        return self != self._saved or self.expires is None or self.expires - now < lifetime - EXPIRY_SLACK

    def persist(self, conn: sqlite3.Connection, lifetime: timedelta, commit: bool = True) -> None:
        """Write what changed (a new token if it has none or must rotate); with commit=False the caller commits and
        then calls `settled`. Writing twice before settling writes the same rows again."""
        if self.rotate and self.token:
            delete_session(conn, self.token)
        if self.token is None or self.rotate:
            self.token, self.rotate = secrets.token_urlsafe(32), False
            self.fresh, self._saved = True, None
        for pane, seq, _, forms, array in self._pending:
            append_turn(conn, self.token, pane, seq, array, forms.stored(), TURNS_KEPT)
        now = datetime.now(timezone.utc)
        written = None
        if self._due(now, lifetime):
            written = save_session(conn, self.token, self, now, lifetime, commit=False)
        if commit:
            conn.commit()
        self._written = written
        if commit:
            self.settled()

    def settled(self) -> None:
        """What `persist` wrote is committed."""
        if self._pending:
            self._pending.clear()
            self._empty = False
        if self._written is not None:
            self.expires, self._saved, self._written = self._written, copy.deepcopy(dict(self)), None

    _written: datetime | None = None
    fresh = False  # a token was made in this request: the cookie must be set
    ended = False  # logged out: delete the row, clear the cookie

    def end(self) -> None:
        """Log out: the session's row is deleted and the cookie cleared."""
        self.clear()
        self.ended = True


class SessionMiddleware:
    """Loads the session named by the cookie into scope['session'] and writes it back when it changed. Requests of
    one session are handled one at a time (each sees what the one before it wrote); other sessions' meanwhile.

    A session is kept in memory between its requests (the last SESSIONS_KEPT), so a request reads nothing; it is
    taken out while a request works on it and put back only when the request went through, so a request that fails
    leaves nothing behind and the next one reads the disk."""

    def __init__(self, app: ASGIApp, conn: sqlite3.Connection, lifetime: timedelta, secure: bool = True,
                 same_site: str = "lax", kept: OrderedDict[str, Session] | None = None) -> None:
        self.app, self.conn, self.lifetime = app, conn, lifetime
        self.secure, self.same_site = secure, same_site
        self._sessions = KeyedLocks()
        self._kept: OrderedDict[str, Session] = kept if kept is not None else OrderedDict()
        self._tokens: dict[bytes, str] = {}  # a Cookie header as sent -> the session cookie's value in it ("": none)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = self._token(scope)
        if not token:
            await self._handle(scope, receive, send, None)
            return
        async with self._sessions.hold(token):
            await self._handle(scope, receive, send, token)

    def _load(self, token: str | None, now: datetime) -> tuple[Session, bool]:
        """The cookie's session (from memory, else from disk; a new one if it has none), and whether one was found."""
        session = self._kept.pop(token, None) if token else None
        if session is not None and session.expires is not None and session.expires > now:
            return session, True
        found = load_session(self.conn, token, now) if token else None
        if found is None:
            return Session({}, None, self.conn), False
        data, expires = found
        session = Session({key: value for key, value in data.items() if key not in LEGACY_KEYS}, token, self.conn,
                          expires)
        session._saved = data  # from before m024, it held its messages (now gone): written again without them
        return session, True

    async def _handle(self, scope: Scope, receive: Receive, send: Send, token: str | None) -> None:
        now = datetime.now(timezone.utc)
        session, known = self._load(token, now)
        scope["session"] = session
        failed = [False]

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                failed[0] = message["status"] >= 500
                cookie = None
                if session.ended:
                    if session.token:
                        delete_session(self.conn, session.token)
                    cookie = self._cookie(None)
                else:
                    if session.changed(now, self.lifetime):
                        session.persist(self.conn, self.lifetime)
                    if session.fresh:
                        cookie = self._cookie(session.token)
                    elif token and not known:  # an expired or unknown cookie is cleared
                        cookie = self._cookie(None)
                if cookie is not None:
                    message["headers"] = [*message.get("headers", ()), (b"set-cookie", cookie.encode("latin-1"))]
            await send(message)

        await self.app(scope, receive, send_with_cookie)
        if not failed[0] and not session.ended and session.token and not session._pending:
            session.fresh = False  # its cookie is set: the next request's response need not set it again
            self._kept[session.token] = session
            while len(self._kept) > SESSIONS_KEPT:
                self._kept.popitem(last=False)

    def _token(self, scope: Scope) -> str | None:
        """The session cookie's value, read as Starlette reads cookies (the first Cookie header), without building a
        request; a browser sends the same header with each request, so its value is remembered by the header."""
        value = first(scope, b"cookie")
        if value is None:
            return None
        token = self._tokens.get(value)
        if token is None:
            token = cookie_parser(value.decode("latin-1")).get(COOKIE) or ""
            if len(value) <= TOKEN_HEADER_KEPT:  # a long header (many cookies, or a client's junk) is read each time
                if len(self._tokens) >= TOKENS_KEPT:
                    self._tokens.clear()
                self._tokens[value] = token
        return token or None

    def _cookie(self, token: str | None) -> str:
        flags = f"Path=/; HttpOnly; SameSite={self.same_site}" + ("; Secure" if self.secure else "")
        if token is None:
            return f"{COOKIE}=; Max-Age=0; {flags}"
        return f"{COOKIE}={token}; Max-Age={int(self.lifetime.total_seconds())}; {flags}"


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
    if not expected or not sent or not sent.isascii() or not secrets.compare_digest(str(expected), sent):
        raise HTTPException(403)  # (compare_digest raises on a non-ASCII text: our tokens are ASCII)
