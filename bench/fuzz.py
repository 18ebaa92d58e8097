"""Hostile text at every question of every flow, both programmes' and the programme question, through each channel:
the terminal chat, `ungebot decide`, and Telegram (a real Application over the fake Bot API, offline). Prints
tracebacks, hangs and unescaped echoes.

    .venv/bin/python bench/fuzz.py [--inputs 10000] [--seed 1]

An input is typed at a question reached the way a caseworker reaches it (tests/fuzzing.py's typed_path; "off target"
counts inputs whose path did not end at its question, in the terminal and in Telegram). A traceback
is any exception out of the channel (or `decide` ending other than 0 or 2); a hang is an input taking over 10 s;
an unescaped echo is a reply that differs from the reply to the same text with < > & swapped for look-alikes
(HTML replies must also pass Telegram's parse mode rules).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import io
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from bot.chat.conversation import Conversation  # noqa: E402
from bot.chat.texts import Texts  # noqa: E402
from flows.catalogue import PROGRAMMES, load_catalogue  # noqa: E402
from tests.fuzzing import (hostile_text, html_problems, lookalike, prompt_shown, question_states,  # noqa: E402
                           typed_path)

HANG_SECONDS = 10
_TO_LOOK = str.maketrans({"<": "‹", ">": "›", "&": "＆"})


class Hang(Exception):
    """An input ran past HANG_SECONDS."""


@contextlib.contextmanager
def deadline(inputs: int = 1) -> Any:
    """Raise Hang in the main thread when the inputs take over HANG_SECONDS each."""
    def ring(*_: Any) -> None:
        raise Hang()
    signal.signal(signal.SIGALRM, ring)
    signal.alarm(HANG_SECONDS * inputs)
    try:
        yield
    finally:
        signal.alarm(0)


def inputs(count: int, seed: int, states: list[Any]) -> list[tuple[Any, str]]:
    """(state, hostile text) pairs: states in turn, texts from a seeded generator."""
    rng = random.Random(seed)
    return [(states[i % len(states)], hostile_text(rng)) for i in range(count)]


def symmetric(replies: list[str], twins: list[str], text: str, html: bool = False) -> bool:
    """True when the replies to text and to lookalike(text) agree once the look-alikes are read back: in HTML a typed
    < must come back as &lt; (and so on), in plain text as itself. Replies of different shape are not compared."""
    if any(ch in text for ch in "‹›＆") or not any(ch in text for ch in "<>&") or len(replies) != len(twins):
        return True
    if html:
        return [_as_lookalikes(reply) for reply in replies] == twins
    # Plain text shows what was typed as typed: read both ways alike, a dropped or mangled "<b>" still differs.
    return [reply.translate(_TO_LOOK) for reply in replies] == [twin.translate(_TO_LOOK) for twin in twins]


def _as_lookalikes(reply: str) -> str:
    return reply.replace("&lt;", "‹").replace("&gt;", "›").replace("&amp;", "＆")


# -- the terminal ------------------------------------------------------------------------------------------------------
def terminal(cases: list[tuple[Any, str]], conversation: Conversation, folder: Path, batch: int = 100) -> Counter[str]:
    """`ungebot chat` with stdin from a string: per batch of inputs one run, each input after /forfra and the path to
    its question; the twin run (look-alikes) has a database of its own."""
    counts: Counter[str] = Counter()
    chunks = [same_day[start:start + batch]
              for day in sorted({case[0][1] for case in cases})
              for same_day in [[case for case in cases if case[0][1] == day]]
              for start in range(0, len(same_day), batch)]
    for chunk in chunks:
        transcripts = [_chat(chunk, conversation, folder / f"terminal-{twin}.db", twin, counts) for twin in (0, 1)]
        if transcripts[0] is None:  # a traceback or hang somewhere: count input by input
            for case in chunk:
                _chat([case], conversation, folder / "terminal-single.db", 0, counts)
            continue
        if transcripts[1] is None:
            continue
        for ((flow, today, answers), text), replies, twins in zip(chunk, transcripts[0], transcripts[1]):
            if not symmetric(replies, twins, text):
                counts["unescaped echoes"] += 1
            typed = [at for at, line in enumerate(replies) if line.startswith("> ")]
            path = typed_path(conversation, flow, today, answers)
            steps = len(path) - path.index("/forfra") - 1  # typed after /forfra, which split the transcript
            shown = "\n".join(replies[typed[steps - 1] + 1:typed[steps]]) if len(typed) > steps else ""
            counts["off target"] += not prompt_shown(conversation, flow, today, answers, shown)
    return counts


def _chat(chunk: list[tuple[Any, str]], conversation: Conversation, db: Path, twin: int,
          counts: Counter[str]) -> list[list[str]] | None:
    """One `ungebot chat` run over these inputs: each input's transcript lines, or None after a traceback or hang."""
    from bot.channels.terminal import run_chat

    lines = []
    for (flow, today, answers), text in chunk:
        lines += typed_path(conversation, flow, today, answers) + [(lookalike(text) if twin else text).replace("\r", "\n")]
    os.environ["UNGEBOT_TODAY"] = chunk[0][0][1].isoformat()
    os.environ["UNGEBOT_DB"] = str(db)
    out = io.StringIO()
    try:
        with deadline(len(chunk)):
            run_chat(io.StringIO("\n".join(lines) + "\n"), out)
    except Hang:
        counts["hangs"] += len(chunk) == 1
        return None
    except Exception:
        counts["tracebacks"] += len(chunk) == 1
        return None
    return [part.split("\n") for part in out.getvalue().split("\n> /forfra\n")[1:]]


# -- decide ------------------------------------------------------------------------------------------------------------
def decide(cases: list[tuple[Any, str]], conversation: Conversation) -> Counter[str]:
    """`ungebot decide FLOW --answer ...` in-process, the hostile text as the current question's answer."""
    import flows.engine
    from bot.cli.main import main

    # decide loads the rulebook per run, as a process must; here one process runs it 20,000 times.
    flows.engine.load_rulebook = functools.lru_cache(flows.engine.load_rulebook)  # type: ignore[assignment]
    counts: Counter[str] = Counter()
    for (flow, today, answers), text in cases:
        os.environ["UNGEBOT_TODAY"] = today.isoformat()
        question = conversation.rulebook.flow(flow).walk(answers, today).question
        assert question is not None
        outputs = []
        for typed in (text, lookalike(text)):
            argv = ["decide", flow] + [f"--answer={q}={v}" for q, v in answers.items()] + [f"--answer={question.id}={typed}"]
            out, err = io.StringIO(), io.StringIO()
            try:
                with deadline(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                    code = main(argv)
                if code not in (0, 2):
                    counts["tracebacks"] += 1
            except Hang:
                counts["hangs"] += 1
            except SystemExit as exit_:
                counts["tracebacks"] += exit_.code not in (0, 2)
            except Exception:
                counts["tracebacks"] += 1
            outputs.append((out.getvalue() + err.getvalue()).split("\n"))
        if not symmetric(outputs[0], outputs[1], text):
            counts["unescaped echoes"] += 1
    return counts


# -- Telegram ----------------------------------------------------------------------------------------------------------
async def telegram(cases: list[tuple[Any, str]], conversation: Conversation, folder: Path) -> Counter[str]:
    """A real Application over the offline fake Bot API; two users walk the same path, one types the text, the other
    its look-alike twin."""
    from telegram import Update

    from bot.config import Settings, read_mail_settings
    from bot.channels.telegram.app import TelegramBot
    from storage.db import open_database
    from tests.fake_telegram import FakeTelegram, OfflineRequest, message_update

    fake = FakeTelegram()
    settings = Settings(token="123:FUZZ", api_url=None, allowed_users=frozenset({1, 2}), support_users=frozenset(),
                        database=folder / "telegram.db", municipality="Fuzzkommune")
    mail = read_mail_settings(environ={"UNGEBOT_OUTBOX": str(folder / "outbox")})
    bot = TelegramBot(settings, db=open_database(folder / "telegram.db"), mail=mail)
    request = OfflineRequest(fake)
    app = bot.build(request=request, updates_request=request)
    await app.initialize()
    counts: Counter[str] = Counter()

    async def say(user: int, text: str) -> list[str]:
        before = len(fake.outbox)
        update = message_update(user, text)
        update["update_id"] = fake.next_update_id()
        await asyncio.wait_for(app.process_update(Update.de_json(update, app.bot)), HANG_SECONDS)
        return [message["text"] for message in fake.outbox[before:]]

    try:
        for (flow, today, answers), text in cases:
            os.environ["UNGEBOT_TODAY"] = today.isoformat()
            replies = []
            for user, typed in ((1, text), (2, lookalike(text))):
                try:
                    shown: list[str] = []
                    for step in typed_path(conversation, flow, today, answers):
                        shown = await say(user, step)
                    counts["off target"] += user == 1 and not prompt_shown(conversation, flow, today, answers,
                                                                            shown[-1] if shown else "")
                    replies.append(await say(user, typed))
                except asyncio.TimeoutError:
                    counts["hangs"] += 1
                    replies.append([])
                except Exception:
                    counts["tracebacks"] += 1
                    replies.append([])
            if any(html_problems(reply) for reply in replies[0]) or not symmetric(replies[0], replies[1], text, html=True):
                counts["unescaped echoes"] += 1
    finally:
        await app.shutdown()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="inputs per channel")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rulebook = load_catalogue(PROGRAMMES)  # as the channels run by default: both programmes
    texts = Texts(rulebook)
    conversation = Conversation(rulebook, texts)
    states = question_states(rulebook, texts)
    cases = inputs(args.inputs, args.seed, states)
    print(f"{args.inputs:,} hostile inputs per channel over {len(states)} questions of {len(rulebook.flows)} flows")
    # In memory where the machine has it: the fuzz is about input, not fsync.
    shm = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        # Both programmes, as the channels run by default (named: a local ungebot.toml must not choose): each typed
        # path begins at the programme question.
        os.environ["UNGEBOT_PROGRAMMES"] = ",".join(PROGRAMMES)
        os.environ["UNGEBOT_DB"] = str(Path(folder) / "fuzz.db")
        os.environ["UNGEBOT_OUTBOX"] = str(Path(folder) / "outbox")
        for name, run in (("terminal", lambda: terminal(cases, conversation, Path(folder))),
                          ("decide", lambda: decide(cases, conversation)),
                          ("telegram", lambda: asyncio.run(telegram(cases, conversation, Path(folder))))):
            started = time.perf_counter()
            counts = run()
            aimed = f", off target {counts['off target']}" if name != "decide" else ""  # decide takes the answers
            print(f"{name:<9} tracebacks {counts['tracebacks']}, hangs {counts['hangs']}, "
                  f"unescaped echoes {counts['unescaped echoes']}{aimed}  ({time.perf_counter() - started:.0f} s)",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
