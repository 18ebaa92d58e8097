"""Telegram adapter speed: updates from many users through Application.process_update with an offline request
object, each answer durably committed (SQLite WAL, synchronous=FULL, on disk), against the same load through a bare
PTB ConversationHandler bot that only replies (no engine, no storage). Prints figures; asserts nothing.

    .venv/bin/python bench/telegram.py [--updates 20000] [--users 1000] [--chunk 100] [--dir D] [--profile 20]

The bots (and the commit alone) take turns, `--chunk` updates each, so that drift in the machine and the disk hits
all alike: the smaller the chunk, the less a change in the machine's load between two turns weighs on one bot. Not
one at a time (`--chunk 1`): then the bots evict each other's data from the CPU caches, which costs the bot with the
most code and data (ours) the most; in chunks of 100 each bot works from warm caches (each chunk takes 50–150 ms).

On this machine (a VM) an fsync costs more the longer the CPU was busy just before it (bench/fsync.py: a one-page
COMMIT's p50 grows by about 80–100 µs from right after another commit to after 1.5 ms of work; not so on /dev/shm).
The commit alone, run back to back, is therefore cheaper than the same commit inside a bot, and the sum "bare bot +
commit alone" asks for a bot cheaper than any bot here can be. So the bench also runs, in the same turns, a bare PTB
bot with keyboards that commits the same row durably before each reply: "bare PTB with keyboards + one durable
commit" as one bot, the overhead printed first. The second line sums the bare bot's p50 and that bot's own writes
and COMMIT (medians of parts: a sum of medians, not a median of sums); the third is the issue's sum with the commit
alone.

Ours and the committing bot are each timed in four parts (medians over the updates that made exactly one commit):
the work before the commit, the writes (SQL statements), the COMMIT, and the work after it (the reply). Ours' parts
are timed through a wrapper around its connection (a few Python calls per commit, counted against ours).

--profile N runs cProfile around ours' timed updates only (not the load's own making of updates) and prints the
Python calls per update of ours and of the bare bot with keyboards, then ours' top N functions by own time (the
timings of a profiled run are the profiler's, not the bots').

Neither bot has a rate limiter here: AIORateLimiter holds sends to Telegram's 30 messages a second, which would
measure the limiter, not the bots.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and its name would shadow the telegram package.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update  # noqa: E402
from telegram.ext import (  # noqa: E402
    Application, CallbackQueryHandler, CommandHandler, ContextTypes, ConversationHandler, MessageHandler, filters,
)

from bot.config import Settings  # noqa: E402
from bot.channels import freeze_long_lived  # noqa: E402
from bot.channels.telegram.app import TelegramBot  # noqa: E402
from storage.db import open_database  # noqa: E402
from bot.channels.telegram.receipts import Receipts  # noqa: E402
from tests.fake_telegram import FakeTelegram, OfflineRequest, callback_update, message_update, press  # noqa: E402

# One caseworker's dialogue, over and over: the guide's switch example, then "Ny sag".
SCRIPT: list[tuple[str, str]] = [
    ("type", "/start"), ("press", "Skifter målgruppe"), ("press", "Ungeløftet – Flere unge skal med"),
    ("press", "Ja"), ("type", "12.10.2025"), ("type", "1/2-26"), ("press", "Ny sag"),
]


MARKS: list[tuple[int, int, int]] = []  # the commits of the update being timed: (began, wrote, done), ns


class Load:
    """Users working through SCRIPT against one bot: run() round-robin, one update at a time (timed each);
    concurrently() with every user at once, each waiting for its reply before its next update."""

    def __init__(self, app: Application, fake: FakeTelegram, users: int, presses: bool,  # type: ignore[type-arg]
                 receipts: Receipts | None = None, first_user: int = 10_000) -> None:
        self.app, self.fake, self.users, self.presses = app, fake, users, presses
        self.receipts, self.first_user = receipts, first_user
        self.progress = dict.fromkeys(range(users), 0)
        self.turn = 0
        self.timings: list[float] = []
        self.phases: list[tuple[float, float, float, float]] = []  # µs before the commit, writes, COMMIT, after
        self.profile: cProfile.Profile | None = None  # when set, runs around each timed update only

    async def handle(self, update: Update, raw: str) -> None:
        """As the Application does with a polled update; ours also takes it into the inbox, as InboxBot does."""
        if self.receipts is not None:
            self.receipts.receive([(update.update_id, raw)])
        await self.app.update_processor.process_update(update, self.app.process_update(update))

    def next_update(self, offset: int) -> tuple[Update, str]:
        """The next update of user number `offset`, pressing a button of the last message it got."""
        user_id = self.first_user + offset
        kind, text = SCRIPT[self.progress[offset] % len(SCRIPT)]
        self.progress[offset] += 1
        update_id = self.fake.next_update_id()
        last = next((m for m in reversed(self.fake.by_chat.get(user_id, [])) if m.get("reply_markup")), None)
        if kind == "press" and self.presses and last is not None:
            raw = callback_update(user_id, press(last, text), last, update_id)
        elif kind == "press":
            raw = callback_update(user_id, "bare", {"message_id": 1, "date": 0, "text": "x",
                                                    "chat": {"id": user_id, "type": "private"}}, update_id)
        else:
            raw = message_update(user_id, text, update_id=update_id)
        return Update.de_json(raw, self.app.bot), json.dumps(raw, ensure_ascii=False)

    async def run(self, count: int) -> None:
        """Send `count` updates; µs per update go to self.timings."""
        for _ in range(count):
            update, raw = self.next_update(self.turn % self.users)
            self.turn += 1
            if self.profile is not None:
                self.profile.enable()
            MARKS.clear()
            started = time.perf_counter_ns()
            await self.handle(update, raw)
            ended = time.perf_counter_ns()
            self.timings.append((ended - started) / 1000)
            if len(MARKS) == 1:
                began, wrote, done = MARKS[0]
                self.phases.append(((began - started) / 1000, (wrote - began) / 1000, (done - wrote) / 1000,
                                    (ended - done) / 1000))
            if self.profile is not None:
                self.profile.disable()
            self.trim()

    async def concurrently(self, per_user: int) -> float:
        """Every user at once, `per_user` updates each; updates per second over the whole run. Polled as
        InboxBot.get_updates polls: the updates sent since the last poll come as one batch, received as one and
        handled concurrently (as the Application does), and the next poll waits until the last batch's inbox rows
        are on disk. (No network round trip per poll: the bot is never idle waiting for Telegram here.)"""
        waiting: list[tuple[Update, str, asyncio.Future[None]]] = []
        sent = asyncio.Event()

        async def user(offset: int) -> None:
            for _ in range(per_user):
                answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
                waiting.append((*self.next_update(offset), answered))
                sent.set()
                await answered
                self.trim()

        async def poll() -> None:
            receipt, handling = None, set()  # the tasks, kept referenced while they run
            while True:
                if receipt is not None and self.receipts is not None:
                    await self.receipts.flushed(receipt)
                await sent.wait()
                sent.clear()
                batch, waiting[:] = list(waiting), []
                if self.receipts is not None:
                    receipt = self.receipts.receive([(update.update_id, raw) for update, raw, _ in batch])
                for update, _, answered in batch:
                    task = asyncio.create_task(self.app.update_processor.process_update(
                        update, self.app.process_update(update)))
                    handling.add(task)
                    task.add_done_callback(handling.discard)
                    task.add_done_callback(partial(self._answered, answered))

        poller = asyncio.create_task(poll())
        started = time.perf_counter()
        try:
            await asyncio.gather(*(user(offset) for offset in range(self.users)))
            return self.users * per_user / (time.perf_counter() - started)
        finally:
            poller.cancel()
            await asyncio.gather(poller, return_exceptions=True)

    @staticmethod
    def _answered(answered: asyncio.Future[None], task: asyncio.Task[None]) -> None:
        """An update handled: its user may send the next (a failure is reported, not left unretrieved)."""
        if not task.cancelled() and task.exception() is not None:
            answered.set_exception(task.exception())  # type: ignore[arg-type]
        else:
            answered.set_result(None)

    def trim(self) -> None:
        """Keep the fake's memory flat over long runs."""
        if len(self.fake.outbox) > 10_000:
            del self.fake.outbox[:5_000], self.fake.sent[:]
            self.fake.messages = {m["message_id"]: m for m in self.fake.outbox}
            self.fake.by_chat = {chat: messages[-2:] for chat, messages in self.fake.by_chat.items()}
            self.fake.calls.clear()


class TimedConnection:
    """The journal's connection, timing each transaction in two parts: its writes, then its COMMIT (µs)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.began = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.conn, name)

    def __enter__(self) -> "TimedConnection":
        self.began = time.perf_counter_ns()
        self.conn.__enter__()
        return self

    def __exit__(self, *exc: Any) -> Any:
        wrote = time.perf_counter_ns()
        try:
            return self.conn.__exit__(*exc)
        finally:
            done = time.perf_counter_ns()
            MARKS.append((self.began, wrote, done))


class CommitFloor:
    """The durable commit alone: the same dialogue row, upserted as ours does, on the same disk and pragmas (also
    the commit of the committing bare bot)."""

    def __init__(self, db_path: Path, row: tuple[str, str | bytes]) -> None:
        self.conn = open_database(db_path)
        self.state, self.reply = row
        self.count = 0
        self.timings: list[float] = []
        self.split: list[tuple[float, float]] = []  # (the statement, the COMMIT), µs

    async def run(self, count: int) -> None:
        for _ in range(count):
            MARKS.clear()
            self.commit()
            began, wrote, done = MARKS[0]
            self.timings.append((done - began) / 1000)
            self.split.append(((wrote - began) / 1000, (done - wrote) / 1000))

    def commit(self) -> None:
        """One durable commit of the row, its clock marks in MARKS."""
        # A new value each time, as an answer brings: SQLite skips writing a row rewritten unchanged.
        self.count += 1
        began = time.perf_counter_ns()
        with self.conn:
            self.conn.execute(UPSERT, ("telegram", str(10_000 + self.count % 1000), self.state, str(self.count),
                                       self.reply, self.count, self.count, self.count - 1))
            wrote = time.perf_counter_ns()
        MARKS.append((began, wrote, time.perf_counter_ns()))


UPSERT = ("INSERT INTO dialogues (channel, staff_id, state, updated, reply, reply_update, reply_seq, sent_through) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(channel, staff_id) DO UPDATE SET state = excluded.state, "
          "updated = excluded.updated, reply = excluded.reply, reply_update = excluded.reply_update, "
          "reply_seq = excluded.reply_seq, sent_through = excluded.sent_through")


def bare_bot(fake: FakeTelegram, keyboard: bool = False,
             commit: Callable[[], object] | None = None) -> Application:  # type: ignore[type-arg]
    """A minimal PTB bot: a ConversationHandler that only replies (with `keyboard`, a three-button keyboard, as
    ours sends with most questions: PTB's building and parsing of keyboards is part of any button bot's cost; with
    `commit`, one durable commit before each reply, as ours makes)."""
    request = OfflineRequest(fake)
    app = Application.builder().token("1:BARE").request(request).get_updates_request(request).build()

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        if update.callback_query is not None:
            await update.callback_query.answer()
        assert update.effective_chat is not None
        if commit is not None:
            commit()
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Ja", callback_data="1:3:a:0"),
                                        InlineKeyboardButton("Nej", callback_data="1:3:a:1")],
                                       [InlineKeyboardButton("↩ Tilbage", callback_data="1:3:b:")]])
        await context.bot.send_message(update.effective_chat.id, "Svar", reply_markup=markup if keyboard else None)
        return 1

    handler: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[int]] = reply
    app.add_handler(ConversationHandler(
        entry_points=[CommandHandler("start", handler)],
        states={1: [CallbackQueryHandler(handler), MessageHandler(filters.TEXT & ~filters.COMMAND, handler)]},
        fallbacks=[CommandHandler("start", handler)]))
    return app


def report(name: str, timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    median = statistics.median(ordered)
    print(f"{name:68}: {1e6 / statistics.mean(ordered):8,.0f} updates/s   p50 {median:7.0f} µs   p99 {p99:7.0f} µs per update")
    return median, p99


def ungebot(db_path: Path, fake: FakeTelegram, users: int) -> tuple[TelegramBot, Application]:  # type: ignore[type-arg]
    settings = Settings(token="1:BENCH", api_url=None, allowed_users=frozenset(range(10_000, 10_000 + users)),
                        support_users=frozenset(), database=db_path, municipality="Benchkommune")
    bot = TelegramBot(settings, db=open_database(db_path))
    request = OfflineRequest(fake)
    return bot, bot.build(request=request, updates_request=request, rate_limiter=False)


async def main() -> None:
    os.environ["UNGEBOT_TODAY"] = "2026-01-15"  # the script's dates are the guide's; keep them within a year
    os.environ["UNGEBOT_PROGRAMMES"] = "ungeloeftet"  # the script is an Ungeløftet case
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--chunk", type=int, default=100, help="updates per bot per turn (the bots alternate; see above)")
    parser.add_argument("--profile", type=int, metavar="N", default=0,
                        help="profile the timed updates; print ours' top N functions by own time")
    parser.add_argument("--dir", type=Path, default=ROOT,
                        help="where the databases go (default: the project's disk; /dev/shm takes the disk out)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as folder:  # by default on the project's disk: real fsyncs
        fake = FakeTelegram()
        bot, app = ungebot(Path(folder) / "bench.db", fake, args.users + 200)
        loads: dict[str, Any] = {"ours": Load(app, fake, args.users, presses=True, receipts=bot.receipts)}
        for keyboard in (False, True):
            bare_fake = FakeTelegram()
            loads[f"bare{'+keyboard' if keyboard else ''}"] = Load(bare_bot(bare_fake, keyboard), bare_fake, args.users,
                                                                   presses=False)
        for load in loads.values():
            await load.app.initialize()
        await loads["ours"].run(len(SCRIPT) - 2)  # a dialogue in mid-flow: the row the floor commits
        freeze_long_lived()  # as `ungebot telegram` does before it polls
        # The row the floor commits: ours' longest, its reply included.
        row = tuple(bot.db.execute("SELECT state, reply FROM dialogues ORDER BY length(state) + length(reply) DESC "
                                   "LIMIT 1").fetchone())
        loads["ours"].timings.clear()
        timed = TimedConnection(bot.journal.conn)
        bot.journal.conn = timed  # type: ignore[assignment]
        if args.profile:
            for name in ("ours", "bare+keyboard"):
                loads[name].profile = cProfile.Profile()
        loads["commit"] = CommitFloor(Path(folder) / "floor.db", row)
        # "Bare PTB with keyboards + one durable commit" as one bot: the commit made in its handler before it
        # replies, as ours does, so that what the commit does to the work after it (a thread that slept in fsync
        # comes back to cold caches) is in the baseline too.
        committing = CommitFloor(Path(folder) / "bare-commit.db", row)
        bare_fake = FakeTelegram()
        loads["bare+keyboard+commit"] = Load(bare_bot(bare_fake, True, committing.commit), bare_fake, args.users,
                                             presses=False)
        await loads["bare+keyboard+commit"].app.initialize()
        # The bots take turns, a chunk each, so that drift in the machine (disk, other load) hits all alike.
        while len(loads["ours"].timings) < args.updates:
            for load in loads.values():
                await load.run(min(args.chunk, args.updates - len(load.timings)))
        decisions = bot.db.execute("select count(*) from decisions").fetchone()[0]
        bot.journal.conn = timed.conn
        throughput = {}
        for users in (1, 10, 100):
            commits, writes = bot.journal.commits, bot.journal.writes
            load = Load(app, fake, users, presses=True, receipts=bot.receipts, first_user=10_000 + args.users + 100)
            throughput[users] = (await load.concurrently(max(70, 2_100 // users)),
                                 (bot.journal.writes - writes) / max(1, bot.journal.commits - commits))
        for load in loads.values():
            if isinstance(load, Load):
                await load.app.shutdown()

    ours = report("ungebot (engine, templates, inbox, one durable commit per answer)", loads["ours"].timings)
    report("bare PTB ConversationHandler (replies only)", loads["bare"].timings)
    keyed = report("bare PTB ConversationHandler (replies + keyboard)", loads["bare+keyboard"].timings)
    commit = report("the durable commit alone (same row, WAL, synchronous=FULL)", loads["commit"].timings)
    whole = report("bare PTB with keyboard, that row committed before each reply", loads["bare+keyboard+commit"].timings)
    parts = {name: [statistics.median(part) for part in zip(*loads[name].phases)] or [0.0] * 4
             for name in ("ours", "bare+keyboard+commit")}
    inside = parts["bare+keyboard+commit"][1] + parts["bare+keyboard+commit"][2]  # its writes + COMMIT
    floor = loads["commit"].split
    print(f"ungebot's overhead beyond bare PTB with keyboards + one durable commit, p50 (p99), "
          f"{args.updates:,} updates each from {args.users:,} users, {decisions:,} decisions logged:")
    print(f"  - as one bot, that commits the same row before it replies:    {ours[0] - whole[0]:5.0f} µs "
          f"({ours[1] - whole[1]:.0f} µs)")
    print(f"  - as a sum, the bare bot + that bot's commit (writes + COMMIT): {ours[0] - keyed[0] - inside:5.0f} µs")
    print(f"  - as a sum, the bare bot + the commit alone (back to back):     {ours[0] - keyed[0] - commit[0]:5.0f} µs "
          f"({ours[1] - keyed[1] - commit[1]:.0f} µs); ratio to the bare bot with keyboards {ours[0] / keyed[0]:.2f}x")
    for name, label in (("ours", "ungebot"), ("bare+keyboard+commit", "committing bare bot")):
        before, writes, committed, after = parts[name]
        print(f"{label:20} p50 parts: before the commit {before:4.0f} µs, writes {writes:4.0f}, COMMIT "
              f"{committed:4.0f}, after {after:4.0f} ({len(loads[name].phases):,} updates with one commit)")
    print(f"{'the commit alone':20} p50 parts: statement {statistics.median(w for w, _ in floor):.0f} µs, COMMIT "
          f"{statistics.median(c for _, c in floor):.0f} (back to back)")
    for users, (rate, shared) in throughput.items():
        print(f"ungebot, {users:3} concurrent users: {rate:7,.0f} answers/s ({shared:.1f} writes per durable commit)")
    if args.profile:
        profiles = {name: pstats.Stats(loads[name].profile) for name in ("ours", "bare+keyboard")}
        print("Python calls per update: " + ", ".join(
            f"{name} {stats.total_calls / len(loads[name].timings):,.0f}"  # type: ignore[attr-defined]
            for name, stats in profiles.items()))
        profiles["ours"].sort_stats("tottime").print_stats(args.profile)


if __name__ == "__main__":
    asyncio.run(main())
