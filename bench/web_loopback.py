"""Helpers of bench/web.py over loopback: each server in its own process on uvicorn (the bare floor started here as
`python bench/web_loopback.py PORT DB GROUPED`), caseworkers driving it with httpx, and the servers taking turns.

The servers run at once and take turns, so that this VM's swings of speed (it has two speed states, and changes
between them within seconds) fall on all of them alike: one session each answers answer by answer, the order reversed
every other answer; several sessions (each server's sessions at once) case by case. Each server's CPU is read from
/proc over all the turns (10 ms ticks: read over many answers).

Several sessions answer back to back, or paced: each caseworker pauses before each answer, for a time drawn from an
exponential distribution (as people's pauses are spread) with the mean asked. Each server's caseworkers get the same
pauses, turn by turn."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import httpx

from web_asgi import bare_app
from web_case import CSRF, SCRIPT, STEP, field


def bare_server(port: int, database: str, grouped: bool) -> None:
    """The floor on uvicorn (see web_asgi.bare_app)."""
    import uvicorn

    from bot.channels import freeze_long_lived

    app = bare_app(database, SCRIPT, grouped)
    freeze_long_lived()  # as `ungebot web` does before it serves
    uvicorn.run(app, host="127.0.0.1", port=port, proxy_headers=False, access_log=False, log_level="warning",
                http="h11")  # as `ungebot web` runs


def bare_command(port: int, database: str, grouped: bool) -> list[str]:
    """The command that serves the floor (bare_server) in a process of its own."""
    return [sys.executable, __file__, str(port), database, str(grouped)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """A server's process, once it accepts connections on `port`."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the server did not start")


def pauses(turn: int, session: int, mean: float) -> list[float]:
    """The seconds caseworker `session` pauses before each answer of its case in `turn` (none when `mean` is 0): the
    same for every server."""
    if not mean:
        return [0.0] * len(SCRIPT)
    draw = random.Random(f"{turn}:{session}")
    return [draw.expovariate(1 / mean) for _ in SCRIPT]


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

    async def case(self, latencies: list[float], paused: list[float] | None = None) -> None:
        """One whole case (SCRIPT), each answer's latency kept; with `paused`, a pause before each answer."""
        for (kind, text), pause in zip(SCRIPT, paused or [0.0] * len(SCRIPT)):
            if pause:
                await asyncio.sleep(pause)
            latencies.append(await self.answer(kind, text))


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


async def take_turns(servers: list[Server], concurrency: int, cases: int, pause: float = 0.0) -> None:
    """The servers take turns, so that a change in this machine's speed falls on all of them alike: with one session
    each, answer by answer (the order reversed every other answer); with several, case by case (all sessions of one
    server answer one whole case at once, back to back or each pausing `pause` seconds on average before an answer,
    then the next server's)."""
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
                    await server.timed(asyncio.gather(*(caseworker.case(server.latencies, pauses(turn, n, pause))
                                                        for n, caseworker in enumerate(server.caseworkers))))
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


if __name__ == "__main__":
    bare_server(int(sys.argv[1]), sys.argv[2], sys.argv[3] == "True")
