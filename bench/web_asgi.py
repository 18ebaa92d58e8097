"""Helpers of bench/web.py: the bare floor (a Starlette app that parses the form and commits one row durably) and a
client that calls an ASGI app directly, without sockets, so the server's own cost per answer is timed alone."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

Field = Callable[[str, str, str], dict[str, str]]


def bare_app(database: str, script: list[tuple[str, str]], grouped: bool = False) -> Any:
    """The floor: parse the form, commit one dialogue-sized row (WAL, synchronous=FULL), answer with JSON like
    ours (a step and the script's buttons). `grouped`: the commit is storage/journal.py's group commit, as ours."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    from storage.journal import Journal

    conn = sqlite3.connect(database, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS dialogues (staff_id TEXT PRIMARY KEY, state TEXT, updated TEXT)")
    journal = Journal(conn)
    state = json.dumps({"v": 1, "step": 3, "segments": [{"flow": "switch", "answers": [["current_marker", "fusm"]]}]})
    options = "".join(f'<button type="submit" name="option" value="{n}">{label}</button>'
                      for n, (_, label) in enumerate(script))

    async def answer(request: Request) -> JSONResponse:
        form = await request.form()
        row = (request.headers.get("x-bench-user", ""), state + str(form.get("text")), time.time())

        def write(db: sqlite3.Connection) -> None:
            db.execute("INSERT INTO dialogues VALUES (?, ?, ?) ON CONFLICT(staff_id) DO UPDATE SET "
                       "state = excluded.state, updated = excluded.updated", row)

        if grouped:
            await journal.durable(write)
        else:
            with conn:
                write(conn)
        return JSONResponse({"messages": "", "controls": f'<input name="step" value="{int(time.time())}">{options}'})

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(f'<input name="csrf" value="x"><input name="step" value="0">{options}')

    return Starlette(routes=[Route("/", page), Route("/svar", answer, methods=["POST"])])


async def call(app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> dict[str, Any]:
    """One request straight into the ASGI app: status, headers and body of its response."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(key.lower().encode(), value.encode()) for key, value in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80)}
    sent = False
    response: dict[str, Any] = {"status": 0, "headers": [], "body": b""}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client never disconnects
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            response["status"], response["headers"] = message["status"], message["headers"]
        elif message["type"] == "http.response.body":
            response["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return response


async def session(app: Any, user: str, rounds: list[tuple[str, str]], field: Field, patterns: Any,
                  timings: list[tuple[float, float]], profiler: Any = None) -> None:
    """One caseworker against the app: open the page, then answer; (wall, CPU) of each answer."""
    step_pattern, csrf_pattern = patterns
    headers = {"x-bench-user": user, "host": "bench"}
    opened = await call(app, "GET", "/", headers)
    for key, value in opened["headers"]:
        if key == b"set-cookie":
            headers["cookie"] = value.decode().split(";")[0]
    page = opened["body"].decode()
    token, current, controls = csrf_pattern.search(page).group(1), step_pattern.search(page).group(1), page
    for kind, text in rounds:
        body = urlencode({"csrf": token, "step": current, **field(kind, text, controls)}).encode()
        began, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        answered = await call(app, "POST", "/svar", {**headers, "x-ungebot-fetch": "1", "content-length": str(
            len(body)), "content-type": "application/x-www-form-urlencoded"}, body)
        if profiler is not None:
            profiler.disable()
        timings.append((time.perf_counter() - began, time.process_time() - cpu))
        if answered["status"] != 200:
            raise SystemExit(f"the answer got {answered['status']}: {answered['body'][:200]!r}")
        controls = json.loads(answered["body"]).get("controls", "")
        found = step_pattern.search(controls)
        current = found.group(1) if found else current


def drive(app: Any, sessions: int, rounds: list[tuple[str, str]], field: Field, patterns: Any,
          profiler: Any = None) -> tuple[list[tuple[float, float]], float]:
    """`sessions` caseworkers at once against the app in this process; the timings and the seconds it took."""
    timings: list[tuple[float, float]] = []

    async def everyone() -> None:
        runs: list[Awaitable[None]] = [session(app, f"bench-{n}", rounds, field, patterns, timings, profiler)
                                       for n in range(sessions)]
        await asyncio.gather(*runs)

    began = time.perf_counter()
    asyncio.run(everyone())
    return timings, time.perf_counter() - began


def evicting(field: Field, megabytes: int) -> Field:
    """`field`, after writing to every cache line of `megabytes` of memory: called before each answer's timing starts
    (see session), it leaves the CPU's caches cold for the answer, as a server that idles between answers finds them
    (over loopback the client and the other servers run in between)."""
    junk = bytearray(megabytes * 1024 * 1024)

    def cold(kind: str, text: str, controls: str) -> dict[str, str]:
        for at in range(0, len(junk), 64):
            junk[at] ^= 1
        return field(kind, text, controls)

    return cold
