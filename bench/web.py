"""Web chat speed: sessions answering whole cases against `ungebot web` (each answer, its decision and the page's new
messages committed durably, SQLite WAL synchronous=FULL, before the reply) and against bare Starlette handlers that
parse the same form and commit one dialogue-sized row durably: one commit per answer, and (with several sessions at
once) the same group commit as ours (storage/journal.py). Baseline and ours in the same run. Prints; asserts nothing.

    .venv/bin/python bench/web.py [--sessions 100] [--cases 1] [--dir /dev/shm] [--only loopback|asgi]
                                  [--profile web.prof]

Two ways, both by default:
- loopback: each server in its own process on uvicorn, driven over 127.0.0.1 by httpx (the issue's figure; the
  client's own cost, several ms per request on this machine, is in every latency);
- asgi: both apps in this process, called through ASGI without sockets: the server's own wall and CPU per answer.
--profile FILE: after the timed runs, one session's cases through ASGI once more under cProfile (only the answers,
not the start-up), saved to FILE, and the top of that profile printed (the figures are not affected).

One answer is one POST of a form as chat.js sends it (a pressed button or typed text; the reply is JSON with the new
messages and the answer forms), timed from request to response; the bare handlers get the same POSTs. A case is
seven answers (SCRIPT). Without JavaScript each POST is answered by a redirect and the browser GETs the page
(POST-redirect-GET); that GET is not timed here.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

import web_asgi
from web_asgi import bare_app

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


def bare_server(port: int, database: str, grouped: bool) -> None:
    """The floor on uvicorn (see web_asgi.bare_app)."""
    import uvicorn

    app = bare_app(database, SCRIPT, grouped)
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


async def open_page(client: httpx.AsyncClient) -> tuple[str, str, str]:
    """A caseworker opens the page: its CSRF token, step and answer forms (the session's cookie kept)."""
    opened = await client.get("/")
    page = opened.text
    cookie = opened.cookies.get("ungebot_session")  # Secure: httpx's jar keeps it off plain http, browsers do not
    if cookie:
        client.headers["Cookie"] = f"ungebot_session={cookie}"
    csrf, step = CSRF.search(page), STEP.search(page)
    assert csrf and step, page[:300]
    return csrf.group(1), step.group(1), page


async def session(client: httpx.AsyncClient, opened: tuple[str, str, str], cases: int, latencies: list[float]) -> None:
    """One caseworker answers `cases` whole cases from the opened page, timing each answer."""
    token, current, controls = opened
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


async def drive(base: str, sessions: int, cases: int, server: int) -> tuple[list[float], float, float, float]:
    """`sessions` caseworkers at once against the server (process id `server`): the latencies, the seconds it took,
    and the CPU seconds the server and this client spent meanwhile. The clients are made and the pages opened before
    anything is timed (an httpx client costs some 50 ms of CPU to make: its TLS context)."""
    clients = [httpx.AsyncClient(base_url=base, headers={"X-Bench-User": f"bench-{n}"}, timeout=60)
               for n in range(sessions)]
    latencies: list[float] = []
    try:
        pages = await asyncio.gather(*(open_page(client) for client in clients))  # not timed
        began, server_cpu, client_cpu = time.perf_counter(), cpu_seconds(server), time.process_time()
        await asyncio.gather(*(session(client, page, cases, latencies) for client, page in zip(clients, pages)))
    finally:
        for client in clients:
            await client.aclose()
    return (latencies, time.perf_counter() - began, cpu_seconds(server) - server_cpu,
            time.process_time() - client_cpu)


def cpu_seconds(pid: int) -> float:
    """The CPU time a process has used so far (user and system, from /proc; 10 ms ticks: read over many answers)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def figures(name: str, latencies: list[float], seconds: float, cpu: list[float] | None = None) -> tuple[float, float]:
    ordered = sorted(latencies)
    p50, p99 = statistics.median(ordered), ordered[int(len(ordered) * 0.99) - 1]
    line = (f"{name:<46} {len(ordered):>5} answers {len(ordered) / seconds:>6.0f} answers/s  "
            f"p50 {p50 * 1e6:>8.0f} µs  p99 {p99 * 1e6:>8.0f} µs")
    print(line + (f"  CPU p50 {statistics.median(cpu) * 1e6:>5.0f} µs" if cpu else ""))
    return p50, p99


BARE, GROUPED, OURS = "bare Starlette + one durable commit", "bare Starlette + group commit", "ungebot web"


def floors(concurrency: int, asgi: bool = False) -> tuple[str, ...]:
    """The floors to compare with: with several sessions at once also a bare handler that shares commits as ours.
    Through ASGI a handler that never awaits runs its session's answers back to back (the others wait outside the
    timing), so there only the group-commit floor is comparable with several sessions."""
    if concurrency == 1:
        return (BARE,)
    return (GROUPED,) if asgi else (BARE, GROUPED)


def overheads(results: dict[str, tuple[float, float]], concurrency: int, asgi: bool = False) -> None:
    ours = results[OURS]
    for floor in floors(concurrency, asgi):
        bare = results[floor]
        print(f"  overhead beyond {floor!r} at {concurrency} at once: p50 {(ours[0] - bare[0]) * 1e6:.0f} µs, "
              f"p99 {(ours[1] - bare[1]) * 1e6:.0f} µs")


def environment(folder: Path, sessions: int) -> dict[str, str]:
    users = ",".join(f"bench-{n}" for n in range(max(sessions, 1)))
    return {"UNGEBOT_DB": str(folder / "ungebot.db"), "UNGEBOT_TODAY": "2026-01-15",
            "UNGEBOT_WEB_TRUSTED_HEADER": "X-Bench-User", "UNGEBOT_WEB_TRUSTED_PROXIES": "127.0.0.1",
            "UNGEBOT_WEB_ALLOWED_USERS": users, "UNGEBOT_WEB_RATE_ANSWERS": "99999", "PYTHONPATH": str(ROOT)}


def loopback(sessions: int, cases: int, folder: Path) -> None:
    """Each server in its own process on uvicorn, driven over loopback HTTP by httpx."""
    env = {**os.environ, **environment(folder, sessions)}
    print("Over loopback HTTP (httpx client, uvicorn server; the client's own cost is in every latency, so the "
          "servers' CPU per answer is read from /proc as well):")
    for concurrency in sorted({1, sessions}):
        results: dict[str, tuple[float, float]] = {}
        cpu: dict[str, float] = {}
        for name in (*floors(concurrency), OURS):
            port = _port()
            database = str(folder / f"bare-{concurrency}-{len(results)}.db")
            command = ([sys.executable, __file__, "--bare-server", str(port), database, str(name == GROUPED)]
                       if name != OURS else
                       [sys.executable, "-m", "bot.cli", "web", "--port", str(port)])
            process = start(command, env, port)
            try:
                base = f"http://127.0.0.1:{port}"
                asyncio.run(drive(base, 1, 1, process.pid))  # warm up (not timed): templates compiled, pages made
                rounds = cases if concurrency > 1 else cases * 30  # one session alone: enough answers for a median
                latencies, seconds, server, client = asyncio.run(drive(base, concurrency, rounds, process.pid))
            finally:
                process.terminate()
                process.wait(30)
            results[name] = figures(f"{name} ({concurrency} at once)", latencies, seconds)
            print(f"  CPU per answer: server {server / len(latencies) * 1e6:.0f} µs (mean), "
                  f"client {client / len(latencies) * 1e6:.0f} µs (mean)")
            cpu[name] = server / len(latencies)
        overheads(results, concurrency)
        for floor in floors(concurrency):
            print(f"  server CPU per answer beyond {floor!r}: {(cpu[OURS] - cpu[floor]) * 1e6:.0f} µs (mean)")
        print()


def in_process(sessions: int, cases: int, folder: Path, profile: str | None) -> None:
    """Both apps in this process, called through ASGI without sockets: the server's own cost per answer."""
    os.environ.update(environment(folder, sessions))
    sys.path.insert(0, str(ROOT))
    from bot.channels.web.app import build_app
    from bot.channels.web.settings import read_web_settings

    apps = {BARE: bare_app(str(folder / "asgi-bare.db"), SCRIPT),
            GROUPED: bare_app(str(folder / "asgi-grouped.db"), SCRIPT, grouped=True),
            OURS: build_app(read_web_settings())}
    print("In this process through ASGI (no sockets, no client cost; CPU is this process's, per answer; with several "
          "sessions an answer waits for the others' work in its group, so p50 is about sessions x CPU per answer):")
    for app in apps.values():
        web_asgi.drive(app, 1, SCRIPT, field, (STEP, CSRF))  # warm up: imports, templates, first pages
    for concurrency in sorted({1, sessions}):
        results = {}
        for name in (*floors(concurrency, asgi=True), OURS):
            rounds = SCRIPT * (cases if concurrency > 1 else cases * 30)
            journal = getattr(apps[OURS].state.web.chat, "journal", None)  # None: ungebot before its group commit
            commits, writes = (journal.commits, journal.writes) if journal else (0, 0)
            timings, seconds = web_asgi.drive(apps[name], concurrency, rounds, field, (STEP, CSRF))
            results[name] = figures(f"{name} ({concurrency} at once)", [wall for wall, _ in timings], seconds,
                                    [cpu for _, cpu in timings] if concurrency == 1 else None)
            if name == OURS and journal:
                print(f"  ungebot's durable commits: {journal.commits - commits} for "
                      f"{journal.writes - writes} answers")
        overheads(results, concurrency, asgi=True)
        print()
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        web_asgi.drive(apps[OURS], 1, SCRIPT * cases * 30, field, (STEP, CSRF), profiler)
        profiler.dump_stats(profile)
        print_profile(profile)


def run(sessions: int, cases: int, where: str | None, profile: str | None, only: str | None) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ungebot-bench-web-", dir=where))
    try:
        if only in (None, "loopback"):
            loopback(sessions, cases, folder)
        if only in (None, "asgi"):
            in_process(sessions, cases, folder, profile)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def print_profile(path: str) -> None:
    """The top of the answers' profile: by own time, then by cumulative time (the answer path's callers)."""
    import pstats

    for order in ("tottime", "cumulative"):
        print(f"--- ungebot web, one session's answers through ASGI, by {order} ({path}) ---")
        pstats.Stats(path).sort_stats(order).print_stats(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--cases", type=int, default=1)
    parser.add_argument("--dir", help="where the databases go (e.g. /dev/shm to take the disk out of the figures)")
    parser.add_argument("--only", choices=("loopback", "asgi"), help="only over loopback HTTP, or only through ASGI")
    parser.add_argument("--profile", metavar="FILE", help="profile ungebot's answers (cProfile, through ASGI) into FILE")
    parser.add_argument("--bare-server", nargs=3, metavar=("PORT", "DB", "GROUPED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(int(args.bare_server[0]), args.bare_server[1], args.bare_server[2] == "True")
        return
    run(args.sessions, args.cases, args.dir, args.profile, args.only)


if __name__ == "__main__":
    main()
