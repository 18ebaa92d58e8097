"""Telegram adapter speed: updates from many users through Application.process_update with an offline request
object, each answer durably committed (SQLite WAL, synchronous=FULL, on disk), against the same load through a bare
PTB ConversationHandler bot that only replies (no engine, no storage). Prints figures; asserts nothing.

    .venv/bin/python bench/telegram.py [--updates 20000] [--users 1000]

Neither bot has a rate limiter here: AIORateLimiter holds sends to Telegram's 30 messages a second, which would
measure the limiter, not the bots.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
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
from bot.channels.telegram.app import TelegramBot  # noqa: E402
from storage.db import open_database  # noqa: E402
from tests.fake_telegram import FakeTelegram, OfflineRequest, callback_update, message_update, press  # noqa: E402

# One caseworker's dialogue, over and over: the guide's switch example, then "Ny sag".
SCRIPT: list[tuple[str, str]] = [
    ("type", "/start"), ("press", "Skifter målgruppe"), ("press", "Ungeløftet – Flere unge skal med"),
    ("press", "Ja"), ("type", "12.10.2025"), ("type", "1/2-26"), ("press", "Ny sag"),
]


class Load:
    """Users working through SCRIPT round-robin against one bot; run() sends the next `count` updates."""

    def __init__(self, app: Application, fake: FakeTelegram, users: int, presses: bool) -> None:  # type: ignore[type-arg]
        self.app, self.fake, self.users, self.presses = app, fake, users, presses
        self.last: dict[int, dict[str, Any]] = {}
        self.progress = dict.fromkeys(range(users), 0)
        self.turn = 0
        self.update_id = 0
        self.timings: list[float] = []

    async def run(self, count: int) -> None:
        """Send `count` updates; µs per process_update call go to self.timings."""
        for _ in range(count):
            offset = self.turn % self.users
            self.turn += 1
            user_id = 10_000 + offset
            kind, text = SCRIPT[self.progress[offset] % len(SCRIPT)]
            self.progress[offset] += 1
            self.update_id += 1
            if kind == "press" and self.presses and user_id in self.last:
                raw = callback_update(user_id, press(self.last[user_id], text), self.last[user_id], self.update_id)
            elif kind == "press":
                raw = callback_update(user_id, "bare", {"message_id": 1, "date": 0, "text": "x",
                                                        "chat": {"id": user_id, "type": "private"}}, self.update_id)
            else:
                raw = message_update(user_id, text, update_id=self.update_id)
            before = len(self.fake.outbox)
            started = time.perf_counter_ns()
            await self.app.process_update(Update.de_json(raw, self.app.bot))
            self.timings.append((time.perf_counter_ns() - started) / 1000)
            for message in self.fake.outbox[before:]:
                if message.get("reply_markup"):
                    self.last[user_id] = message
            if len(self.fake.outbox) > 10_000:  # keep the fake's memory flat over long runs
                del self.fake.outbox[:5_000], self.fake.sent[:]
                self.fake.messages = {m["message_id"]: m for m in self.fake.outbox}
                self.fake.calls.clear()


def bare_bot(fake: FakeTelegram, keyboard: bool = False) -> Application:  # type: ignore[type-arg]
    """A minimal PTB bot: a ConversationHandler that only replies (with `keyboard`, a three-button keyboard, as
    ours sends with most questions: PTB's building and parsing of keyboards is part of any button bot's cost)."""
    request = OfflineRequest(fake)
    app = Application.builder().token("1:BARE").request(request).get_updates_request(request).build()

    async def reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        if update.callback_query is not None:
            await update.callback_query.answer()
        assert update.effective_chat is not None
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


def report(name: str, timings: list[float]) -> float:
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
    median = statistics.median(ordered)
    print(f"{name}: {1e6 / statistics.mean(ordered):8,.0f} updates/s   p50 {median:7.0f} µs   p99 {p99:7.0f} µs per update")
    return median


async def main() -> None:
    os.environ["UNGEBOT_TODAY"] = "2026-01-15"  # the script's dates are the guide's; keep them within a year
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--chunk", type=int, default=500, help="updates per bot per turn (the bots alternate)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=ROOT) as folder:  # on the project's disk, so every commit is a real fsync
        db_path = Path(folder) / "bench.db"
        fake = FakeTelegram()
        settings = Settings(token="1:BENCH", api_url=None, allowed_users=frozenset(range(10_000, 10_000 + args.users)),
                            support_users=frozenset(), database=db_path, municipality="Benchkommune")
        bot = TelegramBot(settings, db=open_database(db_path))
        request = OfflineRequest(fake)
        loads = {"ours": Load(bot.build(request=request, updates_request=request, rate_limiter=False), fake,
                              args.users, presses=True)}
        for keyboard in (False, True):
            bare_fake = FakeTelegram()
            loads[f"bare{'+keyboard' if keyboard else ''}"] = Load(bare_bot(bare_fake, keyboard), bare_fake, args.users,
                                                                   presses=False)
        for load in loads.values():
            await load.app.initialize()
        # The bots take turns, a chunk each, so that drift in the machine (disk, other load) hits all alike.
        while len(loads["ours"].timings) < args.updates:
            for load in loads.values():
                await load.run(min(args.chunk, args.updates - len(load.timings)))
        for load in loads.values():
            await load.app.shutdown()
        decisions = bot.db.execute("select count(*) from decisions").fetchone()[0]

    ours = report("ungebot (engine, templates, SQLite commit per answer)", loads["ours"].timings)
    bare = report("bare PTB ConversationHandler (replies only)          ", loads["bare"].timings)
    keyed = report("bare PTB ConversationHandler (replies + keyboard)     ", loads["bare+keyboard"].timings)
    print(f"ratio ungebot / bare, median per update: {ours / bare:.2f}x (against the bare bot with keyboards: "
          f"{ours / keyed:.2f}x; {args.updates:,} updates each from {args.users:,} users, "
          f"{decisions:,} decisions logged)")


if __name__ == "__main__":
    asyncio.run(main())
