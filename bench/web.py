"""Web chat speed: sessions answering whole cases against `ungebot web` (each answer, its decision and the page's new
messages committed durably, SQLite WAL synchronous=FULL, before the reply) and against bare Starlette handlers that
parse the same form and commit one dialogue-sized row durably: one commit per answer, and (with several sessions at
once) the same group commit as ours (storage/journal.py). Baseline and ours in the same run. Prints; asserts nothing.

    .venv/bin/python bench/web.py [--sessions 100] [--cases 1] [--pause 250] [--dir /dev/shm]
                                  [--only loopback|asgi] [--evict 32] [--profile web.prof]

Two ways, both by default:
- loopback: each server in its own process on uvicorn, driven over 127.0.0.1 by httpx (the issue's figure; the
  client's own cost, about a millisecond per request on this machine, is in every latency). The servers run at once
  and take turns, so that this VM's swings of speed fall on all of them alike (bench/web_loopback.py): one session
  each answers answer by answer, `--cases` x 60 times (420 answers: its server's CPU, read from /proc in 10 ms ticks
  over all the turns, to +-24 µs); then `--sessions` at once, case by case, `--cases` x 4 turns each, twice: back to
  back (the machine saturated: the figure is mostly each answer's wait for the answers ahead of it), and paced, each
  caseworker pausing `--pause` ms on average before an answer (100 people at work, not 100 scripts firing: the
  servers run below saturation, so the latency is an answer's own). Every server, the bare ones too, freezes what it
  built at start;
- asgi: both apps in this process, called through ASGI without sockets: the server's own wall and CPU per answer;
  with --evict MIB each answer of the single session first finds the CPU's caches cold, as a server idling between
  answers does.
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
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import web_asgi
from web_asgi import bare_app
from web_case import CSRF, ROOT, SCRIPT, STEP, environment, field
from web_loopback import Server, bare_command, free_port, start, take_turns


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


def overheads(results: dict[str, tuple[float, float]], concurrency: int, asgi: bool = False, how: str = "") -> None:
    ours = results[OURS]
    for floor in floors(concurrency, asgi):
        bare = results[floor]
        print(f"  overhead beyond {floor!r} at {concurrency} at once{how}: p50 {(ours[0] - bare[0]) * 1e6:.0f} µs, "
              f"p99 {(ours[1] - bare[1]) * 1e6:.0f} µs")


def loopback(sessions: int, cases: int, folder: Path, pause: float) -> None:
    """Each server in its own process on uvicorn, all running at once and taking turns, driven over loopback HTTP by
    httpx: one session; then `sessions` at once back to back, and paced (each caseworker pausing `pause` seconds on
    average before an answer)."""
    env = {**os.environ, **environment(folder, sessions)}
    print("Over loopback HTTP (httpx client, uvicorn server; the client's own cost is in every latency, so the "
          "servers' CPU per answer is read from /proc as well; the servers take turns, answer by answer or case by "
          "case):")
    runs = [(1, 0.0)] + ([(sessions, 0.0)] + ([(sessions, pause)] if pause else []) if sessions > 1 else [])
    for number, (concurrency, paused) in enumerate(runs):
        how = f", paced (a pause of {paused * 1e3:.0f} ms on average before each answer)" if paused else ""
        if concurrency > 1:
            print(f"{concurrency} sessions at once, " + (how[2:] if paused else "back to back (the machine saturated: "
                  "an answer waits for the answers ahead of it, so latency is about sessions / answers per second)"))
        servers: list[Server] = []
        try:
            for name in (*floors(concurrency), OURS):
                port = free_port()
                command = (bare_command(port, str(folder / f"bare-{number}-{len(servers)}.db"), name == GROUPED)
                           if name != OURS else [sys.executable, "-m", "bot.cli", "web", "--port", str(port)])
                servers.append(Server(name, start(command, env, port), f"http://127.0.0.1:{port}"))
            # One session alone: enough answers for a median; several: a few cases each, in turns.
            asyncio.run(take_turns(servers, concurrency, cases * 60 if concurrency == 1 else cases * 4, paused))
        finally:
            for server in servers:
                server.process.terminate()
                server.process.wait(30)
        results = {server.name: figures(f"{server.name} ({concurrency} at once{', paced' if paused else ''})",
                                        server.latencies, server.seconds) for server in servers}
        cpu = {server.name: server.server_cpu / len(server.latencies) for server in servers}
        for server in servers:
            print(f"  {server.name}: CPU per answer: server {cpu[server.name] * 1e6:.0f} µs (mean; in the kernel "
                  f"{server.server_system / len(server.latencies) * 1e6:.0f}), "
                  f"client {server.client_cpu / len(server.latencies) * 1e6:.0f} µs (mean)")
        overheads(results, concurrency, how=", paced" if paused else "")
        for floor in floors(concurrency):
            print(f"  server CPU per answer beyond {floor!r}: {(cpu[OURS] - cpu[floor]) * 1e6:.0f} µs (mean)")
        print()


def in_process(sessions: int, cases: int, folder: Path, profile: str | None, evict: int = 0) -> None:
    """Both apps in this process, called through ASGI without sockets: the server's own cost per answer (with
    `evict`, each answer starts with the CPU's caches cold: that many MiB written to before it)."""
    os.environ.update(environment(folder, sessions))
    sys.path.insert(0, str(ROOT))
    from bot.channels import freeze_long_lived
    from bot.channels.web.app import build_app
    from bot.channels.web.settings import read_web_settings

    apps = {BARE: bare_app(str(folder / "asgi-bare.db"), SCRIPT),
            GROUPED: bare_app(str(folder / "asgi-grouped.db"), SCRIPT, grouped=True),
            OURS: build_app(read_web_settings())}
    print("In this process through ASGI (no sockets, no client cost; CPU is this process's, per answer; with several "
          "sessions an answer waits for the others' work in its group, so p50 is about sessions x CPU per answer"
          + (f"; one session's answers each after {evict} MiB written, their caches cold" if evict else "") + "):")
    answer = web_asgi.evicting(field, evict) if evict else field
    freeze_long_lived()  # as `ungebot web` does before it serves
    for app in apps.values():
        web_asgi.drive(app, 1, SCRIPT, field, (STEP, CSRF))  # warm up: imports, templates, first pages
    for concurrency in sorted({1, sessions}):
        results = {}
        for name in (*floors(concurrency, asgi=True), OURS):
            rounds = SCRIPT * (cases if concurrency > 1 else cases * 30)
            journal = getattr(apps[OURS].state.web.chat, "journal", None)  # None: ungebot before its group commit
            commits, writes = (journal.commits, journal.writes) if journal else (0, 0)
            # Cold caches for one session only: with several, one session's eviction would run inside another's
            # timing (while its answer waits for the group commit).
            timings, seconds = web_asgi.drive(apps[name], concurrency, rounds, answer if concurrency == 1 else field,
                                              (STEP, CSRF))
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


def run(sessions: int, cases: int, where: str | None, profile: str | None, only: str | None,
        pause: float = 0.0, evict: int = 0) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ungebot-bench-web-", dir=where))
    try:
        if only in (None, "loopback"):
            loopback(sessions, cases, folder, pause)
        if only in (None, "asgi"):
            in_process(sessions, cases, folder, profile, evict)
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
    parser.add_argument("--pause", type=float, default=250, metavar="MS",
                        help="over loopback, several sessions also paced: each caseworker's mean pause before an "
                             "answer, in milliseconds (0: back to back only)")
    parser.add_argument("--evict", type=int, default=0, metavar="MIB",
                        help="through ASGI, one session: write to this many MiB before each answer, so it starts "
                             "with cold caches")
    args = parser.parse_args()
    run(args.sessions, args.cases, args.dir, args.profile, args.only, args.pause / 1e3, args.evict)


if __name__ == "__main__":
    main()
