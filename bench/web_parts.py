"""Where one answer's server time goes, without a profiler's distortion: the parts of the web answer path are wrapped
with process_time() and one session answers whole cases through ASGI (as bench/web.py). Parts nest (`flush` holds
`persist` and `write_turn`; `_act` holds the conversation's parts), so they do not add up. Prints; asserts nothing.

    .venv/bin/python bench/web_parts.py [--cases 60] [--dir /dev/shm]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import web_case
import web_asgi

ROOT = Path(__file__).resolve().parent.parent
spent: collections.Counter[str] = collections.Counter()


def wrap(owner: Any, name: str, label: str | None = None) -> None:
    """Count the CPU time spent in owner.name (a function or a coroutine function) under `label`."""
    original = getattr(owner, name)
    key = label or name

    if asyncio.iscoroutinefunction(original):
        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return await original(*args, **kwargs)
            finally:
                spent[key] += time.process_time() - began
        setattr(owner, name, timed_async)
        return

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        began = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[key] += time.process_time() - began
    setattr(owner, name, timed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--dir", help="where the database goes (e.g. /dev/shm to take the disk out)")
    args = parser.parse_args()
    os.environ.update(web_case.environment(Path(tempfile.mkdtemp(prefix="ungebot-bench-parts-", dir=args.dir)), 1))
    sys.path.insert(0, str(ROOT))
    import jinja2

    import bot.chat.texts as texts
    import flows.engine as engine
    from bot.channels.web import app as web_app, auth, chat, middleware, render
    from bot.channels.web.settings import read_web_settings

    for owner, name, label in [
        (chat.WebChat, "_act", "conversation (WebChat._act)"), (engine.Flow, "_fire", "  flow steps (Flow._fire)"),
        (engine.Flow, "walk", "  flow walks"), (texts.Texts, "question", "  question texts (Jinja)"),
        (texts.Texts, "outcome", "  outcome texts (Jinja)"), (chat.Journal, "flush", "commit with its writes (flush)"),
        (middleware.Session, "persist", "  session and new messages"), (chat, "write_turn", "  dialogue and decision"),
        (jinja2.Template, "render", "Jinja renders (all)"), (auth, "submitted_form", "form, CSRF, rate limit"),
        (middleware, "load_session", "session load"), (auth.IdentityMiddleware, "identify", "identity"),
        (middleware.Session, "changed", "session change check"), (web_app.WebApp, "_remember", "messages and forms"),
        (chat.WebChat, "_alone", "whether an answer is alone"), (auth, "read_form", "  the form read"),
        (render.ControlsCache, "json", "answer forms' JSON"), (web_app, "reply", "the reply"),
    ]:
        wrap(owner, name, label)
    app = web_app.build_app(read_web_settings())
    web_asgi.drive(app, 1, web_case.SCRIPT * 2, web_case.field, (web_case.STEP, web_case.CSRF))  # warm up
    spent.clear()
    answers = len(web_case.SCRIPT) * args.cases
    began = time.process_time()
    web_asgi.drive(app, 1, web_case.SCRIPT * args.cases, web_case.field, (web_case.STEP, web_case.CSRF))
    total = time.process_time() - began
    print(f"CPU per answer, all of it (server and the in-process client): {total / answers * 1e6:.0f} µs "
          f"({answers} answers)")
    for name, seconds in spent.most_common():
        print(f"  {name:<34} {seconds / answers * 1e6:>6.0f} µs")


if __name__ == "__main__":
    main()
