"""`ungebot review`: Datasette in this process (no child, no temporary file), read-only, for logged-in support staff.

Who gets in: whoever opens the login link printed at start (one support person on 127.0.0.1), or, behind a shared
reverse proxy that has logged the user in, the user named in a trusted header from a trusted proxy address. Everyone
else sees nothing. What they see: the decision log, the questions to STAR and the canned queries; never the open
dialogues, the outbox's e-mails or SQL of their own. Times are shown in Danish local time.
"""

from __future__ import annotations

import secrets
import signal
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from datasette import hookimpl
from datasette.utils.asgi import Response

from bot.desk.log import when
from flows.loader import TEMPLATES_DIR

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
# The tables the support team reads; everything else (dialogues, outbox, settings, FTS, migrations) stays shut.
READABLE = ("decisions", "star_questions")
TIME_COLUMNS = frozenset({"time", "created", "updated", "sent_at", "answered_at"})
PLUGIN_NAME = "ungebot-review"


def local(stored: str | None) -> str | None:
    """SQL function lokal_tid: a stored UTC time as Danish local time, `YYYY-MM-DD HH:MM` (sorts, groups by day)."""
    if not stored:
        return None
    try:
        return datetime.fromisoformat(stored).astimezone(COPENHAGEN).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return stored


def metadata(db_path: Path, conn: sqlite3.Connection) -> dict[str, Any]:
    """Datasette metadata with Danish titles; a query only once the table it needs exists."""
    raw = yaml.safe_load((TEMPLATES_DIR / "review" / "metadata.yaml").read_text(encoding="utf-8"))
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    database = raw.pop("database")
    database["queries"] = {name: {k: v for k, v in query.items() if k != "requires_table"}
                           for name, query in database["queries"].items()
                           if query.get("requires_table", "decisions") in tables}
    return {**raw, "databases": {db_path.stem: database}}


@dataclass(eq=False)  # hashable by identity: pluggy keeps plugins in a set
class Gate:
    """The Datasette plugin: who is logged in, what they may read, how times look."""

    __name__ = PLUGIN_NAME  # Datasette lists plugins by module name

    token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    proxy_header: str | None = None
    trusted_proxies: frozenset[str] = frozenset()

    @hookimpl
    def prepare_connection(self, conn: sqlite3.Connection) -> None:
        conn.create_function("lokal_tid", 1, local, deterministic=True)

    @hookimpl
    def register_routes(self) -> list[tuple[str, Any]]:
        return [(r"^/-/login$", self._login)]

    async def _login(self, datasette: Any, request: Any) -> Response:
        if not secrets.compare_digest(request.args.get("token") or "", self.token):
            return Response.html("<p>Forkert eller udløbet login-link. Start <code>ungebot review</code> igen.</p>",
                                 status=403)
        response = Response.redirect(datasette.urls.instance())
        response.set_cookie("ds_actor", datasette.sign({"a": {"id": "support", "via": "link"}}, "actor"),
                            httponly=True, samesite="strict")
        return response

    @hookimpl
    def actor_from_request(self, request: Any) -> dict[str, str] | None:
        if not self.proxy_header:
            return None
        client = (request.scope.get("client") or ("", 0))[0]
        user = request.headers.get(self.proxy_header.lower(), "").strip()
        if user and client in self.trusted_proxies:
            return {"id": user, "via": "proxy"}
        return None

    @hookimpl(trylast=True)
    def permission_allowed(self, actor: dict[str, Any] | None, action: str, resource: Any) -> bool:
        if not actor or not actor.get("id"):
            return False
        if action in ("view-instance", "view-database", "view-query"):
            return action != "view-database" or resource != "_internal"
        if action == "view-table":
            return isinstance(resource, tuple) and resource[1] in READABLE
        return False  # execute-sql, debug pages, anything a plugin adds

    @hookimpl
    def render_cell(self, value: Any, column: str) -> str | None:
        if column in TIME_COLUMNS and isinstance(value, str) and len(value) >= 19 and value[4] == "-":
            try:
                return when(value)
            except ValueError:
                return None
        return None


def build(db_path: Path, conn: sqlite3.Connection, gate: Gate) -> Any:
    """The Datasette instance over the database, read-only, with the gate registered."""
    from datasette.app import Datasette
    from datasette.plugins import pm

    if pm.get_plugin(PLUGIN_NAME) is not None:
        pm.unregister(name=PLUGIN_NAME)
    pm.register(gate, name=PLUGIN_NAME)
    datasette = Datasette(files=[str(db_path)], metadata=metadata(db_path, conn),
                          settings={"default_page_size": 50, "allow_download": False, "allow_csv_stream": False})
    datasette._root_token = None  # no root: the gate decides
    return datasette


def _stopped(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def serve(db_path: Path, conn: sqlite3.Connection, port: int, gate: Gate, announce: Any) -> None:
    """Serve on 127.0.0.1 until SIGTERM or Ctrl-C (uvicorn handles both and shuts down cleanly)."""
    import uvicorn

    from datasette.plugins import pm

    app = build(db_path, conn, gate).app()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
                            proxy_headers=False,  # the peer is the proxy itself: the gate checks that address
                            http="h11")  # h11 bounds a request's head, whatever else is installed
    server = uvicorn.Server(config)
    announce(f"http://127.0.0.1:{port}/-/login?token={gate.token}")
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again: let that end us with exit code 0.
    signal.signal(signal.SIGTERM, _stopped)
    try:
        server.run()
    finally:
        pm.unregister(name=PLUGIN_NAME)
