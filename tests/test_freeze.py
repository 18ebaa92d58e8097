"""The long-running channels move what they built at start out of the garbage collector's reach before they take
their first update or request (bot.channels.freeze_long_lived): a full collection then scans only what answers made."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def frozen_when_served() -> Iterator[list[int]]:
    """The number of frozen objects at the moment a channel starts serving (filled by the patched server)."""
    gc.unfreeze()
    seen: list[int] = []
    yield seen
    gc.unfreeze()  # the rest of the suite's objects stay collectable


def test_web_freezes_before_it_serves(private_database: Path, monkeypatch: pytest.MonkeyPatch,
                                      frozen_when_served: list[int]) -> None:
    import uvicorn

    from bot.cli.web import run_web

    def serve(app: Any, **options: Any) -> None:
        frozen_when_served.append(gc.get_freeze_count())

    monkeypatch.setattr(uvicorn, "run", serve)
    assert run_web(argparse.Namespace(demo=True, host=None, port=None)) == 0
    assert frozen_when_served and frozen_when_served[0] > 10_000  # the app, its templates' library, the flows


def test_telegram_freezes_before_it_polls(private_database: Path, monkeypatch: pytest.MonkeyPatch,
                                          frozen_when_served: list[int]) -> None:
    from telegram.ext import Application

    from bot.channels.telegram.app import run_telegram

    def poll(application: Any, **options: Any) -> None:
        frozen_when_served.append(gc.get_freeze_count())

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:TEST")
    monkeypatch.setenv("UNGEBOT_ALLOWED_USERS", "42")
    monkeypatch.setattr(Application, "run_polling", poll)
    assert run_telegram() == 0
    assert frozen_when_served and frozen_when_served[0] > 10_000
