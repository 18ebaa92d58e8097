"""Never blocking: how long other caseworkers wait for a reply while one question goes to STAR through an SMTP
server that takes 3 s to accept it. A real PTB Application takes updates from its queue (sequentially, as in
production); the SMTP server is aiosmtpd on 127.0.0.1. Prints figures; asserts nothing.

    .venv/bin/python -W ignore bench/star_send.py [--smtp-seconds 3] [--others 20]

"background" is the bot as it is: the question is queued and a background task sends it. "inline" replays the old
design for comparison: the handler itself waits for the SMTP exchange before its reply.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on sys.path, and its name would shadow packages.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from aiosmtpd.controller import Controller  # noqa: E402
from telegram import Update  # noqa: E402

from bot.channels.telegram.app import TelegramBot  # noqa: E402
from bot.chat.dialogue import Turn  # noqa: E402
from bot.config import Settings, read_mail_settings  # noqa: E402
from bot.desk.star import delivery_replies  # noqa: E402
from storage.db import open_database  # noqa: E402
from tests.fake_telegram import FakeTelegram, OfflineRequest, callback_update, message_update, press  # noqa: E402
from tests.test_star import free_port  # noqa: E402

ASKER = 500


class SlowServer:
    """Accepts each message after a pause."""

    def __init__(self, pause: float) -> None:
        self.pause = pause

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.pause)
        return "250 OK"


def update(fake: FakeTelegram, app: Any, data: dict[str, Any]) -> Update:
    """An update with the next id, as Telegram would number it."""
    data.setdefault("update_id", fake.next_update_id())
    return Update.de_json(data, app.bot)


async def reply_to(fake: FakeTelegram, chat: int, mark: int, words: str, start: float, timeout: float = 30) -> float:
    """Seconds from `start` until a message to `chat` containing `words` appears after position `mark`."""
    while time.perf_counter() - start < timeout:
        if any(m["chat"]["id"] == chat and words in m.get("text", "") for m in fake.outbox[mark:]):
            return time.perf_counter() - start
        await asyncio.sleep(0.002)
    return float("inf")


async def run(mode: str, smtp_seconds: float, others: int, directory: Path) -> dict[str, Any]:
    port = free_port()
    controller = Controller(SlowServer(smtp_seconds), hostname="127.0.0.1", port=port)
    controller.start()
    os.environ.update({"UNGEBOT_SMTP_HOST": "127.0.0.1", "UNGEBOT_SMTP_PORT": str(port),
                       "UNGEBOT_SMTP_FROM": "ungebot@bench.dk", "UNGEBOT_OUTBOX": str(directory / "outbox"),
                       "UNGEBOT_MUNICIPALITY": "Benchkommune", "UNGEBOT_TODAY": "2026-01-15"})
    fake = FakeTelegram()
    users = frozenset({ASKER, *range(1000, 1000 + others)})
    settings = Settings(token="1:BENCH", api_url=None, allowed_users=users, support_users=frozenset(),
                        database=directory / f"{mode}.db", municipality="Benchkommune")
    bot = TelegramBot(settings, db=open_database(directory / f"{mode}.db"), mail=read_mail_settings())
    if mode == "inline":  # the old design: the handler waits for the mail server before it answers
        async def inline(turn: Turn) -> None:
            if turn.star_send is not None:
                delivery = await bot.star.send(turn.star_send)
                turn.replies[:0] = delivery_replies(bot.texts, delivery, bot.mail.recipient, in_terminal=False)
        bot._send_to_star = inline  # type: ignore[method-assign]
    request = OfflineRequest(fake)
    app = bot.build(request=request, updates_request=request, rate_limiter=False)
    await app.initialize()
    await app.start()
    bot._bot = app.bot
    sender = asyncio.create_task(bot.sender.run())
    try:
        # The asker gets to a draft (not timed).
        await app.process_update(update(fake, app, message_update(ASKER, "/start")))
        for label in ("Ungeløftet (IPS og Flere unge skal med)", "Forløbet slutter", "Spørg STAR"):
            shown = fake.outbox[-1]  # the last message sent or edited
            await app.process_update(update(fake, app, callback_update(ASKER, press(shown, label), shown)))
        await app.process_update(update(fake, app, message_update(ASKER, "Hvad gør vi, når den unge får job?")))
        draft = fake.outbox[-1]
        mark, start = len(fake.outbox), time.perf_counter()
        await app.update_queue.put(update(fake, app, callback_update(ASKER, press(draft, "Send til STAR"), draft)))
        told = asyncio.create_task(reply_to(fake, ASKER, mark, "Spørgsmål nr. 1", start))
        sent = asyncio.create_task(reply_to(fake, ASKER, mark, "er sendt til", start))
        waits = []
        for number in range(others):
            await asyncio.sleep(smtp_seconds / others / 2)
            user, other_mark, asked = 1000 + number, len(fake.outbox), time.perf_counter()
            await app.update_queue.put(update(fake, app, message_update(user, "/start")))
            waits.append(asyncio.create_task(reply_to(fake, user, other_mark, "", asked)))
        others_waited = await asyncio.gather(*waits)
        return {"mode": mode, "asker_told": await told, "asker_sent": await sent, "others": others_waited}
    finally:
        sender.cancel()
        await app.stop()
        await app.shutdown()
        controller.stop()


def report(result: dict[str, Any]) -> str:
    waits = sorted(result["others"])
    return (f"{result['mode']:<10}  asker told {result['asker_told'] * 1000:7.0f} ms, 'sendt' after "
            f"{result['asker_sent']:5.2f} s;  {len(waits)} other users' replies: median "
            f"{statistics.median(waits) * 1000:7.1f} ms, max {max(waits) * 1000:7.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smtp-seconds", type=float, default=3.0)
    parser.add_argument("--others", type=int, default=20)
    args = parser.parse_args()
    print(f"One question to STAR through an SMTP server that takes {args.smtp_seconds:g} s; "
          f"{args.others} other caseworkers send /start meanwhile (PTB processes updates one at a time).")
    with tempfile.TemporaryDirectory() as directory:
        for mode in ("background", "inline"):
            print(report(asyncio.run(run(mode, args.smtp_seconds, args.others, Path(directory)))))


if __name__ == "__main__":
    main()
