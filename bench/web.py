"""Web chat speed: sessions answering whole cases against `ungebot web` (each answer, its decision and the page's new
messages committed durably, SQLite WAL synchronous=FULL, before the reply) and against bare Starlette handlers that
parse the same form and commit one dialogue-sized row durably: one commit per answer, and (with several sessions at
once) the same group commit as ours (storage/journal.py). Baseline and ours in the same run. Prints; asserts nothing.

    .venv/bin/python bench/web.py [--sessions 100] [--cases 1] [--dir /dev/shm] [--only loopback|asgi]
                                  [--profile web.prof]

Two ways, both by default:
- loopback: each server in its own process on uvicorn, driven over 127.0.0.1 by httpx (the issue's figure; the
  client's own cost, about a millisecond per request on this machine, is in every latency). The servers run at once
  and take turns, so that this VM's swings of speed (it has two speed states, and changes between them within
  seconds) fall on all of them alike: one session each answers answer by answer, the order reversed every other
  answer; several sessions (each server's `--sessions` at once) case by case, `--cases` x 4 turns each. A session
  alone answers `--cases` x 60 times (420 answers: its server's CPU, read from /proc in 10 ms ticks over all the
  turns, its own and the others', to +-24 µs); every server, the bare ones too, freezes what it built at start;
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
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

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

    from bot.channels import freeze_long_lived

    app = bare_app(database, SCRIPT, grouped)
    freeze_long_lived()  # as `ungebot web` does before it serves
    uvicorn.run(app, host="127.0.0.1", port=port, proxy_headers=False, access_log=False, log_level="warning",
                http="h11")  # as `ungebot web` runs


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


class Caseworker:
    """One session against one server over loopback: its client, the page's CSRF token, the step, the answer forms."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client, self.token, self.step, self.controls = client, "", "", ""

    async def open(self) -> None:
        """Open the page (not timed): the CSRF token, step and answer forms, the session's cookie kept."""
        opened = await self.client.get("/")
        cookie = opened.cookies.get("ungebot_session")  # Secure: httpx's jar keeps it off plain http, browsers do not
        if cookie:
            self.client.headers["Cookie"] = f"ungebot_session={cookie}"
        # The cookie goes in that header, so the jar is emptied: httpx walks its jar (http.cookiejar) on every request
        # and response, some 100-150 µs of this client's CPU per answer with one cookie in it and none with none,
        # which is the client's cost, not the server's, and would fall on ungebot alone (the bare servers set none).
        self.client.cookies.clear()
        csrf, step = CSRF.search(opened.text), STEP.search(opened.text)
        assert csrf and step, opened.text[:300]
        self.token, self.step, self.controls = csrf.group(1), step.group(1), opened.text

    async def answer(self, kind: str, text: str) -> float:
        """One answer as chat.js posts it; its latency, from request to response read."""
        began = time.perf_counter()
        response = await self.client.post("/svar", headers={"X-Ungebot-Fetch": "1"}, data={
            "csrf": self.token, "step": self.step, **field(kind, text, self.controls)})
        latency = time.perf_counter() - began
        response.raise_for_status()
        self.controls = response.json().get("controls", "")
        found = STEP.search(self.controls)
        self.step = found.group(1) if found else self.step
        return latency

    async def case(self, latencies: list[float]) -> None:
        """One whole case (SCRIPT), each answer's latency kept."""
        for kind, text in SCRIPT:
            latencies.append(await self.answer(kind, text))


def field(kind: str, text: str, controls: str) -> dict[str, str]:
    """The form field a caseworker sends: the pressed button's index (by its label), or the typed text."""
    if kind == "type":
        return {"text": text}
    for index, label in OPTION.findall(controls):
        if html.unescape(label).startswith(text):
            return {"option": index}
    raise SystemExit(f"no button {text!r} in the answer forms: the bench's case no longer fits the dialogue")


class Server:
    """One server's process over loopback, its caseworkers, and what was measured against it."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], base: str) -> None:
        self.name, self.process, self.base = name, process, base
        self.caseworkers: list[Caseworker] = []
        self.latencies: list[float] = []
        self.seconds = self.server_cpu = self.server_system = self.client_cpu = 0.0

    async def open(self, sessions: int, tls: ssl.SSLContext) -> None:
        """`sessions` caseworkers with their pages open (not timed). The clients share one TLS context: httpx makes
        one per client otherwise, some 30-50 ms of CPU each, though nothing here is TLS."""
        self.caseworkers = [Caseworker(httpx.AsyncClient(base_url=self.base, headers={"X-Bench-User": f"bench-{n}"},
                                                          timeout=60, verify=tls)) for n in range(sessions)]
        await asyncio.gather(*(caseworker.open() for caseworker in self.caseworkers))

    async def timed(self, work: Awaitable[Any]) -> None:
        """Run `work` (answers whose latencies it keeps), adding its wall seconds and this client's CPU seconds."""
        client, began = time.process_time(), time.perf_counter()
        await work
        self.seconds += time.perf_counter() - began
        self.client_cpu += time.process_time() - client

    def cpu_from(self, start: tuple[float, float]) -> None:
        """The server's CPU seconds since `start` (its cpu_split when the turns began): over all turns, its own and
        the others' (when it idles, but may still finish what an answer left for after its reply)."""
        now = cpu_split(self.process.pid)
        self.server_cpu, self.server_system = now[0] - start[0], now[1] - start[1]

    async def close(self) -> None:
        for caseworker in self.caseworkers:
            await caseworker.client.aclose()


async def take_turns(servers: list[Server], concurrency: int, cases: int) -> None:
    """The servers take turns, so that a change in this machine's speed falls on all of them alike: with one session
    each, answer by answer (the order reversed every other answer); with several, case by case (all sessions of one
    server answer one whole case at once, then the next server's)."""
    tls = ssl.create_default_context()
    for server in servers:
        await server.open(concurrency, tls)
        await server.caseworkers[0].case([])  # warm up (not timed): templates compiled, pages made
    started = [cpu_split(server.process.pid) for server in servers]
    try:
        if concurrency == 1:
            for turn, (kind, text) in enumerate(SCRIPT * cases):
                for server in servers if turn % 2 == 0 else servers[::-1]:
                    await server.timed(keep(server.caseworkers[0].answer(kind, text), server.latencies))
        else:
            for turn in range(cases):
                for server in servers if turn % 2 == 0 else servers[::-1]:
                    await server.timed(asyncio.gather(*(caseworker.case(server.latencies)
                                                        for caseworker in server.caseworkers)))
        for server, start in zip(servers, started):
            server.cpu_from(start)
    finally:
        for server in servers:
            await server.close()


async def keep(latency: Awaitable[float], latencies: list[float]) -> None:
    latencies.append(await latency)


def cpu_split(pid: int) -> tuple[float, float]:
    """The CPU time a process has used so far, and the part of it in the kernel (from /proc; 10 ms ticks: read over
    many answers)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick, int(fields[12]) / tick


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
    """Each server in its own process on uvicorn, all running at once and taking turns, driven over loopback HTTP by
    httpx."""
    env = {**os.environ, **environment(folder, sessions)}
    print("Over loopback HTTP (httpx client, uvicorn server; the client's own cost is in every latency, so the "
          "servers' CPU per answer is read from /proc as well; the servers take turns, answer by answer or case by "
          "case):")
    for concurrency in sorted({1, sessions}):
        servers: list[Server] = []
        try:
            for name in (*floors(concurrency), OURS):
                port = _port()
                database = str(folder / f"bare-{concurrency}-{len(servers)}.db")
                command = ([sys.executable, __file__, "--bare-server", str(port), database, str(name == GROUPED)]
                           if name != OURS else
                           [sys.executable, "-m", "bot.cli", "web", "--port", str(port)])
                servers.append(Server(name, start(command, env, port), f"http://127.0.0.1:{port}"))
            # One session alone: enough answers for a median; several: a few cases each, in turns.
            asyncio.run(take_turns(servers, concurrency, cases * 60 if concurrency == 1 else cases * 4))
        finally:
            for server in servers:
                server.process.terminate()
                server.process.wait(30)
        results = {server.name: figures(f"{server.name} ({concurrency} at once)", server.latencies, server.seconds)
                   for server in servers}
        cpu = {server.name: server.server_cpu / len(server.latencies) for server in servers}
        for server in servers:
            print(f"  {server.name}: CPU per answer: server {cpu[server.name] * 1e6:.0f} µs (mean; in the kernel "
                  f"{server.server_system / len(server.latencies) * 1e6:.0f}), "
                  f"client {server.client_cpu / len(server.latencies) * 1e6:.0f} µs (mean)")
        overheads(results, concurrency)
        for floor in floors(concurrency):
            print(f"  server CPU per answer beyond {floor!r}: {(cpu[OURS] - cpu[floor]) * 1e6:.0f} µs (mean)")
        print()


def in_process(sessions: int, cases: int, folder: Path, profile: str | None) -> None:
    """Both apps in this process, called through ASGI without sockets: the server's own cost per answer."""
    os.environ.update(environment(folder, sessions))
    sys.path.insert(0, str(ROOT))
    from bot.channels import freeze_long_lived
    from bot.channels.web.app import build_app
    from bot.channels.web.settings import read_web_settings

    apps = {BARE: bare_app(str(folder / "asgi-bare.db"), SCRIPT),
            GROUPED: bare_app(str(folder / "asgi-grouped.db"), SCRIPT, grouped=True),
            OURS: build_app(read_web_settings())}
    print("In this process through ASGI (no sockets, no client cost; CPU is this process's, per answer; with several "
          "sessions an answer waits for the others' work in its group, so p50 is about sessions x CPU per answer):")
    freeze_long_lived()  # as `ungebot web` does before it serves
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
