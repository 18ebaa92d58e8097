"""The README's example session plays exactly as printed: typed into `ungebot chat` on a fixed day, line by line."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.channels.terminal import run_chat

from tests.conftest import ROOT


def readme_session() -> list[str]:
    """The first `$ make chat` block of the README, without the command line."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("```text\n$ make chat\n") + len("```text\n$ make chat\n")
    return text[start:text.index("```", start)].rstrip().split("\n")


def test_the_readme_session_plays_exactly_as_printed(private_database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")
    for name in ("UNGEBOT_PROGRAMMES", "UNGEBOT_MUNICIPALITY", "UNGEBOT_SMTP_HOST"):
        monkeypatch.delenv(name, raising=False)
    expected = readme_session()
    typed = "".join(line[2:] + "\n" for line in expected if line.startswith("> "))
    out = io.StringIO()
    assert run_chat(io.StringIO(typed), out) == 0
    assert [line.rstrip() for line in out.getvalue().rstrip().split("\n")] == expected
