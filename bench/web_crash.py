"""Crash trial of the web chat: concurrent sessions work through whole cases over loopback HTTP while `ungebot web` is
killed with SIGKILL at random moments and started again. Prints what a caseworker would notice; asserts nothing.

    .venv/bin/python bench/web_crash.py [--sessions 100] [--kills 5] [--seed 1]

A request cut off by a kill gets no answer; the page then does what a person does: reload and send again. The form's
step makes that safe: an answer that reached the disk before the kill is not applied twice (the old form only says the
case has moved on). Counted: requests cut off, acknowledged answers lost (a reply was shown, but after the restart the
dialogue is behind it), sessions that could not finish, and decisions logged twice or not at all.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from web_loopback import free_port

ROOT = Path(__file__).resolve().parent.parent
CASE = ["switch", "fusm", "ja", "12/10-25", "1/2-26"]  # the guide's switch example, ending in a decision
STEP = re.compile(r'name="step" value="(\d+)"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Server:
    """`ungebot web` behind a pretend login proxy (this machine), killed and restarted on the same port."""

    def __init__(self, folder: Path, users: int) -> None:
        self.port = free_port()
        self.env = {**os.environ, "UNGEBOT_DB": str(folder / "ungebot.db"), "UNGEBOT_TODAY": "2026-01-15",
                    "UNGEBOT_MUNICIPALITY": "Testkommune", "UNGEBOT_WEB_TRUSTED_HEADER": "X-Trial-User",
                    "UNGEBOT_WEB_TRUSTED_PROXIES": "127.0.0.1", "UNGEBOT_WEB_RATE_ANSWERS": "99999",
                    "UNGEBOT_PROGRAMMES": "ungeloeftet",  # CASE is an Ungeløftet case (no programme question)
                    "UNGEBOT_WEB_ALLOWED_USERS": ",".join(f"trial-{n}" for n in range(users)), "PYTHONPATH": str(ROOT)}
        self.process: subprocess.Popen[bytes] | None = None
        self.up = asyncio.Event()

    async def start(self) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "bot.cli", "web", "--port", str(self.port)],
                                        env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        self.up.set()

    def kill(self) -> None:
        self.up.clear()
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


class Tally:
    cut_off = 0
    lost = 0
    stuck = 0
    answers = 0


async def caseworker(server: Server, user: str, cases: int, tally: Tally) -> None:
    """Work through `cases` whole cases; after a cut-off request, reload the page and go on from what it shows."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", headers={"X-Trial-User": user},
                                 timeout=30) as client:
        acknowledged = -1  # the step the last reply showed
        finished, before, tries = 0, -1, 0
        while tries < 500:
            tries += 1
            await server.up.wait()
            try:
                opened = await client.get("/")
                page = opened.text
                _keep_cookie(client, opened)
                step, token = int(STEP.findall(page)[-1]), CSRF.findall(page)[-1]
                tally.lost += step < acknowledged
                position = _answers_given(page)
                finished += position == len(CASE) and before not in (-1, len(CASE))
                before = position
                if finished == cases:
                    break
                text = CASE[position] if position < len(CASE) else "ny"
                response = await client.post("/svar", data={"csrf": token, "step": str(step), "text": text},
                                             headers={"X-Ungebot-Fetch": "1"})
                response.raise_for_status()
                tally.answers += 1
                acknowledged = int(STEP.findall(response.json()["controls"])[-1])
            except (httpx.TransportError, httpx.HTTPStatusError, IndexError, ValueError):
                tally.cut_off += 1
                await asyncio.sleep(0.05)
        done = finished
        if done < cases:
            tally.stuck += 1


def _keep_cookie(client: httpx.AsyncClient, response: httpx.Response) -> None:
    """The session cookie is Secure, which browsers honour on 127.0.0.1 and httpx's jar does not: carry it by hand."""
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        if name == "ungebot_session" and not rest.startswith(";"):
            client.headers["Cookie"] = f"ungebot_session={rest.split(';', 1)[0]}"


def _answers_given(page: str) -> int:
    """How far the page's case is: the number of the case's answers given since the last question about the situation."""
    if "Hvad er der sket med den unge?" in page.rsplit('class="message message-bot', 1)[-1]:
        return 0
    for index, marker in enumerate(("Hvilken markør har den unge nu?", "Har den unge nu et forløb i psykiatrien?",
                                    "Hvilken startdato har", "Fra hvilken dag")):
        if marker in page.rsplit('class="message message-bot', 1)[-1]:
            return index + 1
    return len(CASE)  # at the outcome


async def trial(sessions: int, kills: int, cases: int, seed: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ungebot-web-crash-"))
    server = Server(folder, sessions)
    tally = Tally()
    await server.start()
    rng = random.Random(seed)
    began = time.perf_counter()
    try:
        workers = asyncio.gather(*(caseworker(server, f"trial-{n}", cases, tally) for n in range(sessions)))
        for _ in range(kills):
            await asyncio.sleep(rng.uniform(0.5, 3.0))
            server.kill()
            await server.start()
        await workers
    finally:
        server.stop()
    conn = sqlite3.connect(folder / "ungebot.db")
    per_user = dict(conn.execute("SELECT staff_id, count(*) FROM decisions GROUP BY staff_id").fetchall())
    twice = sum(1 for n in range(sessions) if per_user.get(f"trial-{n}", 0) > cases)
    missing = sum(1 for n in range(sessions) if per_user.get(f"trial-{n}", 0) < cases)
    print(f"{sessions} sessions × {cases} cases, {kills} SIGKILLs, {tally.answers} answers acknowledged "
          f"in {time.perf_counter() - began:.0f} s")
    print(f"requests cut off by a kill (sent again after a reload): {tally.cut_off}")
    print(f"acknowledged answers lost: {tally.lost}")
    print(f"sessions that could not finish: {tally.stuck}")
    print(f"decisions logged twice: {twice}; not logged: {missing}")
    conn.close()
    shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({"cut_off": tally.cut_off, "lost": tally.lost, "stuck": tally.stuck, "twice": twice,
                      "missing": missing}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--cases", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(trial(args.sessions, args.kills, args.cases, args.seed))


if __name__ == "__main__":
    main()
