"""The channel-free CPU work of an answer, in parts: the conversation's turn, the state's dict and its comparison
with the state as loaded, and the dialogue row (its JSON, and the upsert into a database in memory, uncommitted
work only). Prints µs per answer by part (medians, and by kind of answer) and Python calls per answer; asserts
nothing.

It drives the script bench/telegram.py sends (the guide's switch example, from /start to "Ny sag") for many
simulated users, round-robin, as the Telegram channel calls the chat layer (bot/channels/telegram/app.py:
_on_text/_on_button, _act, _answer, _commit), each user's state kept between turns as the channel keeps it.

    .venv/bin/python -W ignore bench/answer.py [--rounds 40] [--users 200] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.telegram import SCRIPT  # noqa: E402
from bot.chat.conversation import Conversation  # noqa: E402
from bot.chat.dialogue import DialogueState, Reply, Turn, current_day  # noqa: E402
from bot.chat.programmes import enabled_catalogue  # noqa: E402
from bot.chat.texts import Texts  # noqa: E402
from bot.config import read_mail_settings  # noqa: E402
from bot.desk.star import StarDesk  # noqa: E402
from storage.db import open_database  # noqa: E402
from storage.records import Staff, write_turn  # noqa: E402

try:
    from storage.records import to_json  # what write_turn writes the row's JSON with
except ImportError:  # before #15's to_json (a checkout of an older main)
    to_json = partial(json.dumps, ensure_ascii=False)

PARTS = ("conversation", "state", "json", "row")
Options = tuple[tuple[str, str], ...]
clock = time.perf_counter_ns


class Answers:
    """Users answering SCRIPT through one Conversation, as the Telegram channel drives it (without PTB or the disk)."""

    def __init__(self, users: int) -> None:
        rulebook = enabled_catalogue()
        self.texts = Texts(rulebook)
        self.db = open_database(":memory:")
        desk = StarDesk(self.db, read_mail_settings())
        self.conversation = Conversation(rulebook, self.texts, answers=desk)
        self.users = users
        self.kept: dict[int, tuple[DialogueState, dict[str, Any] | None, Options]] = {}
        self.progress = dict.fromkeys(range(users), 0)
        self.update_id = 0
        self.timings: dict[str, dict[str, list[int]]] = {}  # by kind of answer, by part: ns

    def turn(self, user: int, timed: bool) -> None:
        """One update of one user: the turn, the state compared and serialised, the row written (not committed)."""
        kind, text = SCRIPT[self.progress[user] % len(SCRIPT)]
        self.progress[user] += 1
        self.update_id += 1
        conversation, today = self.conversation, current_day()
        state, loaded, shown = self.kept.pop(user, None) or (conversation.new_state(), None, ())
        t0 = clock()
        if kind == "press":
            options = shown or conversation.current_options(state, today)
            index = next((i for i, (_, label) in enumerate(options) if label.startswith(text)), None)
            assert index is not None, (text, options)
            pending = (state.pending or {}).get("kind")
            on_question = pending == "confirm_date" or (
                not pending and conversation.position(state, today).question is not None)
            value, label = options[index]
            turn = conversation.choose(state, value, today)
            chosen = self.texts.common("chosen", label=label)
            assert chosen and on_question in (True, False)
        elif text == "/start":
            turn = Turn(state, [Reply(self.texts.common("welcome"))] + conversation.resume(state, today))
        else:
            turn = conversation.handle(state, text, today)
        t1 = clock()
        data = turn.state.to_dict()
        changed = turn.decision is not None or loaded is None or data != loaded
        if changed:
            turn.state.last_update = max(turn.state.last_update, self.update_id)
            data["last_update"] = turn.state.last_update
        decision = conversation.decision_record(turn)
        t2 = clock()
        row = dict(data)  # as write_turn makes it
        row.pop("replaced", None)
        to_json(row)
        t3 = clock()
        decision_id = None
        if changed:
            decision_id = write_turn(self.db, Staff("telegram", str(user)), data, decision)
        t4 = clock()
        self.db.commit()  # in memory: not timed, keeps the transaction small
        t5 = clock()
        if changed:  # as _commit patches the kept state after its commit
            if decision_id is not None:
                turn.state.decision_id = data["decision_id"] = decision_id
            turn.state.replaced.clear()
            data.pop("replaced", None)
        self.kept[user] = (turn.state, data, turn.replies[-1].options if turn.replies else ())
        t6 = clock()
        if timed:
            label = f"{kind} {text[:20]}" + (" (outcome)" if turn.decision is not None else "")
            parts = self.timings.setdefault(label, {part: [] for part in (*PARTS, "all")})
            for part, spent in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                parts[part].append(spent)
            parts["all"].append((t1 - t0) + (t2 - t1) + (t4 - t3) + (t6 - t5))

    def run(self, updates: int, timed: bool = True) -> None:
        for index in range(updates):
            self.turn(index % self.users, timed)


def median_us(values: list[int]) -> float:
    return statistics.median(values) / 1000 if values else 0.0


def report(answers: Answers) -> None:
    every = {part: [v for parts in answers.timings.values() for v in parts[part]] for part in (*PARTS, "all")}
    count = len(every["all"])
    print(f"µs per answer (medians of {count:,} answers; 'all' = conversation + state + row + keeping the state; "
          "json is inside row)")
    print(f"  {'':36}" + "".join(f"{part:>14}" for part in (*PARTS, "all")))
    rows = [("every answer", every), *answers.timings.items()]
    for name, parts in rows:
        n = len(parts["all"])
        print(f"  {name + f' ({n:,})':36}" + "".join(f"{median_us(parts[part]):14.1f}" for part in (*PARTS, "all")))


def cpu_per_answer(make: Callable[[], Answers], updates: int) -> float:
    answers = make()
    answers.run(len(SCRIPT) * answers.users, timed=False)
    started = time.process_time_ns()
    answers.run(updates, timed=False)
    return (time.process_time_ns() - started) / updates / 1000


def calls_per_answer(answers: Answers, updates: int, top: int) -> None:
    profile = cProfile.Profile()
    profile.enable()
    answers.run(updates, timed=False)
    profile.disable()
    stats = pstats.Stats(profile)
    calls = sum(entry[1] for entry in stats.stats.values())  # type: ignore[attr-defined]
    print(f"Python calls per answer (cProfile, {updates:,} answers): {calls / updates:.0f}")
    if top:
        stats.sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=40, help="times each user goes through the script, timed")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print the profile's top N functions")
    args = parser.parse_args()
    os.environ["UNGEBOT_TODAY"] = "2026-01-15"  # as bench/telegram.py: the script's dates within a year
    os.environ["UNGEBOT_PROGRAMMES"] = "ungeloeftet"  # ... and an Ungeløftet case
    updates = len(SCRIPT) * args.users * args.rounds
    answers = Answers(args.users)
    answers.run(len(SCRIPT) * args.users, timed=False)  # warm: templates compiled, every user mid-script
    gc.freeze()  # as the Telegram channel does before it polls
    answers.run(updates)
    report(answers)
    cpu = cpu_per_answer(lambda: Answers(args.users), updates)
    print(f"CPU per answer, all of it (process time over {updates:,} answers, a mean): {cpu:.1f} µs")
    calls_per_answer(answers, len(SCRIPT) * args.users * 2, args.profile)
    print(f"(the script: {', '.join(text for _, text in SCRIPT)})")


if __name__ == "__main__":
    main()
