"""Crashes under load: concurrent caseworkers talk to `ungebot telegram` (a real process polling the fake Bot API on
127.0.0.1; each start a new one, forked from a process that has loaded the code) while the bot is killed with SIGKILL
at random moments and started again. Every caseworker waits for the reply to each message or press before the next,
works through whole cases again and again until the last kill, then finishes the case at hand. Prints what went wrong;
every figure should be 0.

    .venv/bin/python bench/crash.py [--dialogues 100] [--kills 5] [--seed N] [--fresh-processes]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and its name would shadow the telegram package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from storage import inbox  # noqa: E402
from tests.fake_telegram import FakeBotApiServer, FakeTelegram, callback_update, message_update, press  # noqa: E402

TOKEN = "123456:CRASH-BENCH"
FIRST_USER = 20_000
REPLY_TIMEOUT = 60.0  # seconds a caseworker waits for a reply (a restart included) before calling it lost
# The bot's processes come from a fork server: it loads the modules `python -m bot.cli telegram` loads on its way to
# polling (the command line, the adapter, then lazily httpx's transport and sqlite-utils), and on each line it reads
# forks a child that runs that command from its beginning, prints the child's pid, then the exit code once it ended.
# Loading code touches no state, so each child does all a restarted bot does (settings, database, inbox, Telegram);
# only the second or two of importing and compiling the same libraries again is saved on each restart.
FORK_SERVER = """
import os, sys
import bot.cli.main, bot.cli.web, bot.cli.learn, bot.channels.telegram.app, httpcore, sqlite_utils
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        os.dup2(os.open(os.devnull, os.O_RDWR), 0)
        os.dup2(os.open(os.devnull, os.O_RDWR), 1)
        sys.exit(bot.cli.main.main(["telegram"]))
    print(pid, flush=True)
    print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), flush=True)
"""

# (type or press, what, a fragment the reply must contain). Two whole cases of the guide, with UNGEBOT_TODAY below.
SCRIPTS: list[list[tuple[str, str, str]]] = [
    [("type", "/forfra", "Hvad er der sket"), ("press", "Skifter målgruppe", "Hvilken markør har den unge nu?"),
     ("press", "Ungeløftet – Flere unge skal med", "nu et forløb i psykiatrien"),
     ("press", "Ja", "startdato har den nuværende markør"),
     ("type", "12.10.2025", "Fra hvilken dag hører den unge til den nye målgruppe?"),
     ("type", "1/2-26", "Skift markøren")],
    [("type", "/forfra", "Hvad er der sket"), ("press", "Går på barsel", "Går den unge på barsel"),
     ("press", "Går på barsel", "Hvilken markør"), ("press", "Ungeløftet – IPS", "Hvilken startdato"),
     ("type", "1.12.2025", "Hvilken dag begynder barselsperioden"), ("type", "1. marts 2026", "Sæt slutdato")],
]


@dataclass
class Result:
    """What the trial counted; `failures` is every count that should be 0."""

    updates: int = 0
    cases: int = 0
    kills: int = 0
    no_reply: int = 0
    answers_lost: int = 0
    stuck: int = 0
    duplicate_replies: int = 0
    in_flight_duplicates: int = 0
    decisions_twice: int = 0
    decisions_missing: int = 0
    seconds: float = 0.0
    restarts: list[float] = field(default_factory=list)  # seconds from each SIGKILL to polling again
    notes: list[str] = field(default_factory=list)

    def failures(self) -> dict[str, int]:
        return {"updates with no reply": self.no_reply, "acknowledged answers lost": self.answers_lost,
                "dialogues that could not continue": self.stuck, "duplicate replies": self.duplicate_replies,
                "decisions logged twice": self.decisions_twice, "decisions not logged": self.decisions_missing}


class Trial:
    """The fake Bot API, the bot process, the caseworkers and the killer."""

    def __init__(self, folder: Path, dialogues: int, kills: int, seed: int,
                 kill_after: tuple[float, float] = (0.05, 1.0), fresh: bool = False) -> None:
        self.fake = FakeTelegram()
        self.server = FakeBotApiServer(self.fake, TOKEN)
        self.db_path = folder / "crash.db"
        self.dialogues, self.kills_wanted, self.kill_after = dialogues, kills, kill_after
        self.random = random.Random(seed)
        self.result = Result()
        self.killing = True
        self.fresh = fresh  # each start a new interpreter that imports everything itself, as a supervisor starts it
        self.forks: subprocess.Popen[bytes] | None = None  # the fork server, or with `fresh` the bot itself
        self.pid = 0  # the running bot's
        self.logs = folder / "bot.log"
        self.cases_done: dict[int, int] = {}
        self.arrived: dict[int, asyncio.Event] = {}
        self.kill_times: list[float] = []
        self.resent: dict[int, int] = {}  # chat -> kills after which the restart was to send its last reply again

    def env(self) -> dict[str, str]:
        users = ",".join(str(FIRST_USER + i) for i in range(self.dialogues))
        return {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "UNGEBOT_TELEGRAM_API_URL": self.server.base_url,
                "UNGEBOT_ALLOWED_USERS": users, "UNGEBOT_SUPPORT_USERS": "", "UNGEBOT_DB": str(self.db_path),
                "UNGEBOT_CONFIG": str(self.db_path.parent / "none.toml"), "UNGEBOT_TODAY": "2026-01-15",
                "UNGEBOT_PROGRAMMES": "ungeloeftet",  # the scripts are Ungeløftet cases
                "NO_PROXY": "127.0.0.1,localhost"}

    def launch(self) -> None:
        """Start the bot: a new process, forked from the fork server (started first), or a fresh interpreter."""
        if self.forks is None or self.fresh:
            command = ["-m", "bot.cli", "telegram"] if self.fresh else ["-c", FORK_SERVER]
            output = subprocess.DEVNULL if self.fresh else subprocess.PIPE
            with open(self.logs, "ab") as log:
                self.forks = subprocess.Popen([sys.executable, *command], env=self.env(), cwd=ROOT,
                                              stdin=subprocess.PIPE, stdout=output, stderr=log)
            if self.fresh:
                self.pid = self.forks.pid
                return
        assert self.forks.stdin is not None and self.forks.stdout is not None
        self.forks.stdin.write(b"go\n")
        self.forks.stdin.flush()
        pid = self.forks.stdout.readline()
        if not pid.strip().isdigit():
            raise RuntimeError(f"the bot's fork server ended; its log: {self.logs.read_text(errors='replace')[-2000:]}")
        self.pid = int(pid)

    def stop(self, sig: signal.Signals, timeout: float = 30.0) -> None:
        """Send the bot a signal and wait until its process has ended."""
        assert self.forks is not None
        os.kill(self.pid, sig)
        if self.fresh:
            self.forks.wait(timeout)
            return
        assert self.forks.stdout is not None
        if not select.select([self.forks.stdout], [], [], timeout)[0]:
            os.kill(self.pid, signal.SIGKILL)
            raise TimeoutError(f"the bot did not stop within {timeout:.0f} s of {sig.name}")
        self.forks.stdout.readline()

    async def killer(self) -> None:
        """Kill the bot at a random moment once it is polling; start it again at once."""
        while self.result.kills < self.kills_wanted:
            polls = len(self.fake.called("getUpdates"))
            await self.polled(polls)
            if self.kill_times:
                self.result.restarts.append(time.monotonic() - self.kill_times[-1])
            await self.polled(polls + 1)  # it has polled and handled something
            await asyncio.sleep(self.random.uniform(*self.kill_after))
            self.stop(signal.SIGKILL)
            self.kill_times.append(time.monotonic())
            self.note_unsent()
            self.result.kills += 1
            self.launch()
        self.killing = False
        if self.kill_times:
            await self.polled(len(self.fake.called("getUpdates")))
            self.result.restarts.append(time.monotonic() - self.kill_times[-1])

    def note_unsent(self) -> None:
        """Right after a kill: the replies the restart will send again, as not known to be sent (those numbered
        above the highest "sent through" on disk). Only these may reach a chat twice."""
        conn = sqlite3.connect(self.db_path)
        try:
            for _, reply in inbox.unsent(conn, inbox.progress(conn).sent_through):
                chat = int(json.loads(reply)["chat"])
                self.resent[chat] = self.resent.get(chat, 0) + 1
        finally:
            conn.close()

    async def polled(self, polls: int) -> None:
        """Until the bot has called getUpdates more than `polls` times."""
        while len(self.fake.called("getUpdates")) <= polls:
            await asyncio.sleep(0.01)

    async def caseworker(self, index: int) -> None:
        """Whole cases, one after another, until the kills are over; then the case at hand is finished."""
        user_id, script = FIRST_USER + index, SCRIPTS[index % len(SCRIPTS)]
        last: dict[str, Any] | None = None
        seen = 0
        while self.killing or self.cases_done.get(user_id, 0) == 0:
            for step, (kind, what, expect) in enumerate(script):
                await asyncio.sleep(self.random.uniform(0, 0.05))  # a caseworker reads, then answers
                if kind == "press":
                    assert last is not None
                    self.fake.push(callback_update(user_id, press(last, what), last))
                else:
                    self.fake.push(message_update(user_id, what))
                self.result.updates += 1
                reply = await self.wait_reply(user_id, seen)
                if reply is None:
                    self.result.no_reply += 1
                    self.result.stuck += 1
                    return
                seen = len(self.fake.by_chat[user_id])
                while last is not None and reply["text"] == last["text"] and expect not in reply["text"]:
                    reply = await self.wait_reply(user_id, seen)  # a duplicate (counted at the end): wait on
                    if reply is None:
                        self.result.no_reply += 1
                        self.result.stuck += 1
                        return
                    seen = len(self.fake.by_chat[user_id])
                if expect not in reply["text"]:
                    earlier = any(e in reply["text"] for _, _, e in script[:step])
                    self.result.answers_lost += int(earlier)
                    self.result.stuck += 1
                    self.result.notes.append(f"user {user_id} step {step}: expected {expect!r}, got "
                                             f"{reply['text'][:120]!r}")
                    return
                last = reply
            self.cases_done[user_id] = self.cases_done.get(user_id, 0) + 1

    async def wait_reply(self, user_id: int, seen: int) -> dict[str, Any] | None:
        event = self.arrived.setdefault(user_id, asyncio.Event())
        deadline = time.monotonic() + REPLY_TIMEOUT
        while time.monotonic() < deadline:
            replies = self.fake.by_chat.get(user_id, [])
            if len(replies) > seen:
                return replies[seen]
            event.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), 0.5)
        return None

    def _notify(self, loop: asyncio.AbstractEventLoop, chat_id: int) -> None:
        """Called on the fake server's threads: wake the caseworker the message is for."""
        event = self.arrived.get(chat_id)
        if event is not None:
            loop.call_soon_threadsafe(event.set)

    def count(self) -> None:
        """Duplicates (more replies than updates, per chat) and the decision log against the cases finished."""
        sent: dict[int, int] = {}
        for update in self.fake.pushed:
            body = update.get("message") or update["callback_query"]
            sent[body["from"]["id"]] = sent.get(body["from"]["id"], 0) + 1
        for user_id, count in sent.items():
            replies = self.fake.by_chat.get(user_id, [])
            excess = max(0, len(replies) - count)
            # A reply sent just before the process died, not yet known on disk to be sent (a send in flight, or
            # "sent through" still waiting up to MARK_WITHIN for the next commit): Telegram has it, and the restart
            # sends it again (the Bot API has no idempotent send; silence would be worse). Only a chat whose reply
            # was on the restart's list at a kill may get one twice, once per such kill. Anything else is a bug.
            in_flight = min(excess, self.resent.get(user_id, 0))
            self.result.in_flight_duplicates += in_flight
            self.result.duplicate_replies += excess - in_flight
            if excess > in_flight:
                self.result.notes.append(f"user {user_id}: {len(replies)} replies to {count} updates")
        logged = dict(sqlite3.connect(self.db_path).execute(
            "SELECT staff_id, count(*) FROM decisions GROUP BY staff_id").fetchall())
        for user_id, done in self.cases_done.items():
            found = logged.get(str(user_id), 0)
            self.result.decisions_twice += max(0, found - done)
            self.result.decisions_missing += max(0, done - found)
        self.result.cases = sum(self.cases_done.values())

    async def run(self) -> Result:
        started = time.monotonic()
        self.fake.on_message = partial(self._notify, asyncio.get_running_loop())
        with self.server:
            self.launch()
            try:
                await asyncio.gather(self.killer(), *(self.caseworker(i) for i in range(self.dialogues)))
                await asyncio.sleep(0.5)  # a late duplicate would arrive now
            finally:
                if self.forks is not None:
                    with contextlib.suppress(ProcessLookupError):
                        self.stop(signal.SIGTERM)
                    assert self.forks.stdin is not None
                    self.forks.stdin.close()
                    self.forks.wait(timeout=30)
                    if self.forks.stdout is not None:
                        self.forks.stdout.close()
            self.count()
        self.result.seconds = time.monotonic() - started
        tracebacks = self.logs.read_text(errors="replace").count("Traceback")
        if tracebacks:
            self.result.notes.append(f"{tracebacks} traceback(s) in the bot's log")
        return self.result


def run(dialogues: int, kills: int, seed: int = 0, kill_after: tuple[float, float] = (0.05, 1.0),
        fresh: bool = False) -> Result:
    """One trial in a temporary folder on the project's disk; each kill comes `kill_after` seconds (at random
    between the two) after the bot has started answering."""
    with tempfile.TemporaryDirectory(dir=ROOT) as folder:
        return asyncio.run(Trial(Path(folder), dialogues, kills, seed, kill_after, fresh).run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=int, default=100)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--fresh-processes", action="store_true",
                        help="start each bot as a new interpreter that imports everything (slower restarts)")
    args = parser.parse_args()
    result = run(args.dialogues, args.kills, args.seed, fresh=args.fresh_processes)
    print(f"{args.dialogues} concurrent dialogues, {result.kills} SIGKILLs (seed {args.seed}): {result.updates:,} "
          f"messages and presses, {result.cases:,} cases finished in {result.seconds:.1f} s")
    if result.restarts:
        print(f"  restarts, SIGKILL to polling again: {', '.join(f'{s:.2f}' for s in result.restarts)} s")
    for name, count in result.failures().items():
        print(f"  {name:44} {count}")
    print(f"  {'replies sent just before a kill, sent again':44} {result.in_flight_duplicates}"
          " (the Bot API has no idempotent send: at-least-once)")
    for note in result.notes[:20]:
        print(f"  note: {note}")
    return 1 if any(result.failures().values()) or result.notes else 0


if __name__ == "__main__":
    sys.exit(main())
