"""The long-running channels move what they built at start out of the garbage collector's reach before they take
their first update or request (bot.channels.freeze_long_lived): a full collection then scans only what answers made."""

from __future__ import annotations

import argparse
import gc
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def frozen(thing: object) -> bool:
    """Whether `thing` is out of the collector's reach (gc.get_objects leaves out what gc.freeze moved)."""
    return gc.is_tracked(thing) and not any(found is thing for found in gc.get_objects())


@pytest.fixture
def served() -> Iterator[list[bool]]:
    """Whether the app (or the Telegram application) was frozen when the channel started serving, filled by the
    patched server; the collector and the loggers the channel sets are as before afterwards."""
    gc.unfreeze()
    levels = {name: logging.getLogger(name).level for name in ("httpx", "transitions")}
    seen: list[bool] = []
    yield seen
    gc.unfreeze()  # the rest of the suite's objects stay collectable
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def test_web_freezes_its_app_before_it_serves(private_database: Path, monkeypatch: pytest.MonkeyPatch,
                                              served: list[bool]) -> None:
    import uvicorn

    from bot.cli.web import run_web

    def serve(app: Any, **options: Any) -> None:
        served.append(frozen(app) and frozen(app.state.web.chat))
        app.state.web.chat.db.close()

    monkeypatch.setattr(uvicorn, "run", serve)
    assert run_web(argparse.Namespace(demo=True, host=None, port=None)) == 0
    assert served == [True]


def test_telegram_freezes_its_application_before_it_polls(private_database: Path, monkeypatch: pytest.MonkeyPatch,
                                                          served: list[bool]) -> None:
    from telegram.ext import Application

    from bot.channels.telegram.app import run_telegram

    def poll(application: Any, **options: Any) -> None:
        served.append(frozen(application) and frozen(application.bot))

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST")
    monkeypatch.setenv("UNGEBOT_ALLOWED_USERS", "42")
    monkeypatch.setattr(Application, "run_polling", poll)
    assert run_telegram() == 0
    assert served == [True]
