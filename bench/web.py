"""Web chat speed: sessions answering whole cases over loopback HTTP (httpx) against `ungebot web` on uvicorn (each
answer and the page's transcript committed durably, SQLite WAL synchronous=FULL, before the reply), and the same
load against a bare Starlette handler on uvicorn that parses the form and does one durable commit of a dialogue-sized
row. Both servers run in their own process, one after the other, in the same run. Prints figures; asserts nothing.

    .venv/bin/python bench/web.py [--sessions 100] [--cases 1] [--dir /dev/shm] [--profile web.prof]

--profile runs the ungebot server under cProfile and prints the top of its profile (the figures are then slower).

One answer is one POST of a form as chat.js sends it (a pressed button or typed text; the reply is JSON with the new
messages and answer forms), timed from request to response; the bare handler gets the same POSTs. The no-JavaScript
path adds a GET of the page after each POST (POST-redirect-GET); that is not timed here.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
# One case as a caseworker answers it: the guide's switch example, buttons pressed by their label and dates typed,
# to the outcome (a decision logged), then "Ny sag". Seven answers; each is one POST.
SCRIPT: list[tuple[str, str]] = [
    ("press", "Ungeløftet"), ("press", "Skifter målgruppe"), ("press", "Ungeløftet – Flere unge skal med"),
    ("press", "Ja"), ("type", "12.10.2025"), ("type", "1/2-26"), ("press", "Ny sag"),
]
STEP = re.compile(r'name="step" value="(\d+)"')
OPTION = re.compile(r'name="option" value="(\d+)"[^>]*>([^<]*)</button>')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def bare_server(port: int, database: str) -> None:
    """The floor: a Starlette handler that parses the form and commits one row durably, then answers."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse
    from starlette.routing import Route

    conn = sqlite3.connect(database, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS dialogues (staff_id TEXT PRIMARY KEY, state TEXT, updated TEXT)")
    state = json.dumps({"v": 1, "step": 3, "segments": [{"flow": "switch", "answers": [["current_marker", "fusm"]]}]})
    options = "".join(f'<button type="submit" name="option" value="{n}">{label}</button>' for n, (_, label) in
                      enumerate(SCRIPT))

    async def answer(request: Request) -> JSONResponse:
        form = await request.form()
        with conn:
            conn.execute("INSERT INTO dialogues VALUES (?, ?, ?) ON CONFLICT(staff_id) DO UPDATE SET "
                         "state = excluded.state, updated = excluded.updated",
                         (request.headers.get("x-bench-user", ""), state + str(form.get("text")), time.time()))
        return JSONResponse({"messages": "", "controls": f'<input name="step" value="{int(time.time())}">{options}'})

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(f'<input name="csrf" value="x"><input name="step" value="0">{options}')

    app = Starlette(routes=[Route("/", page), Route("/svar", answer, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, proxy_headers=False, access_log=False, log_level="warning")


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not start")


async def session(base: str, user: str, cases: int, latencies: list[float]) -> None:
    """One caseworker: open the page, then answer `cases` whole cases, timing each answer."""
    async with httpx.AsyncClient(base_url=base, headers={"X-Bench-User": user}, timeout=60) as client:
        opened = await client.get("/")
        page = opened.text
        cookie = opened.cookies.get("ungebot_session")  # Secure: httpx's jar keeps it off plain http, browsers do not
        if cookie:
            client.headers["Cookie"] = f"ungebot_session={cookie}"
        csrf, step = CSRF.search(page), STEP.search(page)
        assert csrf and step, page[:300]
        token, current, controls = csrf.group(1), step.group(1), page
        for kind, text in SCRIPT * cases:
            began = time.perf_counter()
            response = await client.post("/svar", data={"csrf": token, "step": current, **field(kind, text, controls)},
                                          headers={"X-Ungebot-Fetch": "1"})
            latencies.append(time.perf_counter() - began)
            response.raise_for_status()
            controls = response.json().get("controls", "")
            found = STEP.search(controls)
            current = found.group(1) if found else current


def field(kind: str, text: str, controls: str) -> dict[str, str]:
    """The form field a caseworker sends: the pressed button's index (by its label), or the typed text."""
    if kind == "type":
        return {"text": text}
    for index, label in OPTION.findall(controls):
        if html.unescape(label).startswith(text):
            return {"option": index}
    raise SystemExit(f"no button {text!r} in the answer forms: the bench's case no longer fits the dialogue")


async def drive(base: str, sessions: int, cases: int) -> tuple[list[float], float]:
    latencies: list[float] = []
    began = time.perf_counter()
    await asyncio.gather(*(session(base, f"bench-{n}", cases, latencies) for n in range(sessions)))
    return latencies, time.perf_counter() - began


def figures(name: str, latencies: list[float], seconds: float) -> tuple[float, float]:
    ordered = sorted(latencies)
    p50, p99 = statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]
    print(f"{name:<34} {len(ordered):>6} answers  {len(ordered) / seconds:>8.0f} answers/s  "
          f"p50 {p50 * 1e6:>8.0f} µs  p99 {p99 * 1e6:>8.0f} µs")
    return p50, p99


def run(sessions: int, cases: int, where: str | None, profile: str | None = None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ungebot-bench-web-", dir=where))
    users = ",".join(f"bench-{n}" for n in range(max(sessions, 1)))
    env = {**os.environ, "UNGEBOT_DB": str(folder / "ungebot.db"), "UNGEBOT_TODAY": "2026-01-15",
           "UNGEBOT_WEB_TRUSTED_HEADER": "X-Bench-User", "UNGEBOT_WEB_TRUSTED_PROXIES": "127.0.0.1",
           "UNGEBOT_WEB_ALLOWED_USERS": users, "UNGEBOT_WEB_RATE_ANSWERS": "99999", "PYTHONPATH": str(ROOT)}
    results = {}
    for concurrency in sorted({1, sessions}):
        for name in ("bare Starlette + one durable commit", "ungebot web"):
            port = _port()
            database = str(folder / f"bare-{concurrency}.db")
            command = ([sys.executable, __file__, "--bare-server", str(port), database] if name.startswith("bare")
                       else [sys.executable, *(["-m", "cProfile", "-o", f"{profile}.{concurrency}"] if profile else []),
                             "-m", "bot.cli", "web", "--port", str(port)])
            process = start(command, env, port)
            try:
                rounds = cases if concurrency > 1 else cases * 10  # one session alone: enough answers for a median
                latencies, seconds = asyncio.run(drive(f"http://127.0.0.1:{port}", concurrency, rounds))
            finally:
                process.send_signal(signal.SIGINT)  # uvicorn re-raises it after shutdown: cProfile still writes
                process.wait(30)
            results[(concurrency, name)] = figures(f"{name} ({concurrency} at once)", latencies, seconds)
        bare = results[(concurrency, "bare Starlette + one durable commit")]
        ours = results[(concurrency, "ungebot web")]
        print(f"  overhead beyond the floor at {concurrency} at once: p50 {(ours[0] - bare[0]) * 1e6:.0f} µs, "
              f"p99 {(ours[1] - bare[1]) * 1e6:.0f} µs\n")
    shutil.rmtree(folder, ignore_errors=True)
    for concurrency in sorted({1, sessions}) if profile else ():
        print_profile(f"{profile}.{concurrency}", concurrency)


def print_profile(path: str, concurrency: int) -> None:
    """The top of the server's profile: by own time, then by cumulative time (the answer path's callers)."""
    import pstats

    for order in ("tottime", "cumulative"):
        print(f"--- ungebot web server, {concurrency} at once, by {order} ({path}) ---")
        pstats.Stats(path).strip_dirs().sort_stats(order).print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--cases", type=int, default=1)
    parser.add_argument("--dir", help="where the databases go (e.g. /dev/shm to take the disk out of the figures)")
    parser.add_argument("--profile", metavar="FILE", help="profile the ungebot server (cProfile) into FILE.<n>")
    parser.add_argument("--bare-server", nargs=2, metavar=("PORT", "DB"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(int(args.bare_server[0]), args.bare_server[1])
        return
    run(args.sessions, args.cases, args.dir, args.profile)


if __name__ == "__main__":
    main()
