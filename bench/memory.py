"""Memory and growth: resident memory per open dialogue, and the cost of one answer with 1 and with 10,000 dialogues
open, through the real Telegram bot (PTB Application, offline fake Bot API, every answer committed before its reply).

    .venv/bin/python bench/memory.py [--dialogues 10000] [--answers 2000] [--disk]

An open dialogue is a caseworker standing at a question: /start, then an answer, so the state is stored. The cost
of an answer is measured for the same kind of answer (a choice, then /tilbage back to it) at random open dialogues.
The database is on /dev/shm unless --disk (fsync on a shared disk swamps the figures in noise).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from telegram import Update  # noqa: E402

from bot.config import Settings, read_mail_settings  # noqa: E402
from bot.channels.telegram.app import TelegramBot  # noqa: E402
from storage.db import open_database  # noqa: E402
from tests.fake_telegram import FakeTelegram, OfflineRequest, message_update  # noqa: E402


def rss_kib() -> int:
    """The process's resident memory now, in KiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Bench:
    """One bot over the offline fake Bot API; say() is one update, processed to its reply."""

    def __init__(self, folder: Path, users: int) -> None:
        self.fake = FakeTelegram()
        database = folder / "memory.db"
        settings = Settings(token="123:MEM", api_url=None, allowed_users=frozenset(range(1, users + 1)),
                            support_users=frozenset(), database=database, municipality="Målekommune")
        mail = read_mail_settings(environ={"UNGEBOT_OUTBOX": str(folder / "outbox")})
        self.bot = TelegramBot(settings, db=open_database(database), mail=mail)
        request = OfflineRequest(self.fake)
        # No rate limiter: AIORateLimiter holds sends to 30 a second, which would time the limiter (33 ms an answer).
        self.app = self.bot.build(request=request, updates_request=request, rate_limiter=False)
        self.database = database

    async def say(self, user: int, text: str) -> None:
        update = message_update(user, text)
        update["update_id"] = self.fake.next_update_id()
        await self.app.process_update(Update.de_json(update, self.app.bot))
        self.fake.outbox.clear()  # the fake keeps every message; the bot must not, and the fake is not measured
        self.fake.sent.clear()
        self.fake.calls.clear()
        self.fake.messages.clear()
        self.fake.pushed.clear()

    async def open(self, users: range) -> None:
        """Each user starts a dialogue and answers the router, so an open dialogue is stored."""
        for user in users:
            await self.say(user, "/start")
            await self.say(user, "2")

    async def answer_cost(self, open_users: int, answers: int, rng: random.Random) -> tuple[list[float], list[float]]:
        """Microseconds per answer at random open dialogues (a choice, then /tilbage to the same question): wall
        time, and the process's CPU time, which other processes on a busy machine do not inflate."""
        wall, cpu = [], []
        for index in range(answers):
            user = rng.randint(1, open_users)
            started, started_cpu = time.perf_counter(), time.process_time()
            await self.say(user, "1" if index % 2 == 0 else "/tilbage")
            wall.append((time.perf_counter() - started) * 1e6)
            cpu.append((time.process_time() - started_cpu) * 1e6)
        return wall, cpu


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def run(dialogues: int, answers: int, folder: Path) -> None:
    rng = random.Random(1)
    bench = Bench(folder, dialogues)
    await bench.app.initialize()
    try:
        await bench.open(range(1, 2))
        await bench.answer_cost(1, 200, rng)  # warm: templates, machines, caches
        at_one = await bench.answer_cost(1, answers, rng)
        gc.collect()
        before, objects = rss_kib(), len(gc.get_objects())
        started = time.perf_counter()
        await bench.open(range(2, dialogues + 1))
        opened = time.perf_counter() - started
        gc.collect()
        after, objects_after = rss_kib(), len(gc.get_objects())
        at_many = await bench.answer_cost(dialogues, answers, rng)
        stored = bench.bot.db.execute("SELECT count(*) FROM dialogues").fetchone()[0]
        bench.bot.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        await bench.app.shutdown()
    size = bench.database.stat().st_size
    print(f"{stored:,} open dialogues stored (opened in {opened:.1f} s, {size / stored:,.0f} bytes each on disk)")
    print(f"resident memory: {before / 1024:,.1f} MiB with 1 open, {after / 1024:,.1f} MiB with {dialogues:,} open: "
          f"{(after - before) * 1024 / (dialogues - 1):,.0f} bytes per open dialogue; "
          f"Python objects {objects:,} → {objects_after:,} ({(objects_after - objects) / (dialogues - 1):+.2f} per dialogue)")
    for label, (wall, cpu) in (("1 open", at_one), (f"{dialogues:,} open", at_many)):
        print(f"per answer with {label:>12}: wall p50 {statistics.median(wall):,.0f} µs, "
              f"p99 {percentile(wall, 0.99):,.0f} µs; CPU p50 {statistics.median(cpu):,.0f} µs, "
              f"mean {statistics.mean(cpu):,.0f} µs ({len(wall):,} answers)")
    print(f"growth from 1 to {dialogues:,} open dialogues: CPU mean "
          f"{statistics.mean(at_many[1]) / statistics.mean(at_one[1]) - 1:+.1%}, wall p50 "
          f"{statistics.median(at_many[0]) / statistics.median(at_one[0]) - 1:+.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=int, default=10_000)
    parser.add_argument("--answers", type=int, default=2_000, help="answers timed at 1 and at N open dialogues")
    parser.add_argument("--disk", action="store_true", help="the database on disk (the working folder), not /dev/shm")
    args = parser.parse_args()
    os.environ.setdefault("UNGEBOT_TODAY", "2026-01-15")
    base = None if args.disk or not Path("/dev/shm").is_dir() else "/dev/shm"
    with tempfile.TemporaryDirectory(dir=base or ".") as folder:
        print(f"database in {'memory (/dev/shm)' if base else 'the working folder (disk)'}")
        asyncio.run(run(args.dialogues, args.answers, Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
