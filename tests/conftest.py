"""Shared fixtures: the rulebook (loaded once), texts, a conversation, and a private database per test."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.chat.conversation import Conversation
from bot.chat.texts import Texts
from flows.catalogue import Catalogue, load_catalogue
from flows.engine import Rulebook, load_rulebook

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 1, 15)


@pytest.fixture(autouse=True)
def private_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes to its own database, never ./data."""
    path = tmp_path / "ungebot.db"
    monkeypatch.setenv("UNGEBOT_DB", str(path))
    monkeypatch.delenv("UNGEBOT_TODAY", raising=False)
    # The suite's channels start at Ungeløftet's router; tests of both programmes (the default) set it themselves.
    monkeypatch.setenv("UNGEBOT_PROGRAMMES", "ungeloeftet")
    return path


@pytest.fixture(scope="session")
def rulebook() -> Rulebook:
    return load_rulebook()


@pytest.fixture(scope="session")
def texts(rulebook: Rulebook) -> Texts:
    return Texts(rulebook)


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    """Both programmes behind the programme router, as a caseworker gets them by default."""
    return load_catalogue()


@pytest.fixture(scope="session")
def catalogue_texts(catalogue: Catalogue) -> Texts:
    return Texts(catalogue)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def both(catalogue: Catalogue, catalogue_texts: Texts) -> Conversation:
    """A conversation over both programmes."""
    return Conversation(catalogue, catalogue_texts, "Testkommune")  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def conversation(rulebook: Rulebook, texts: Texts) -> Conversation:
    return Conversation(rulebook, texts, "Testkommune")
