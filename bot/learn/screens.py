"""What one learning turn shows and stores: the same for the terminal, Telegram and the web."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from storage.learn import GradedPart


@dataclass(frozen=True)
class Screen:
    """One message: HTML text, choices as (value, label), and optionally a flow diagram (plain or with a path)."""

    text: str
    options: tuple[tuple[str, str], ...] = ()
    diagram: str | None = None  # a flow id: its committed diagram
    path: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (flow, nodes) drawn highlighted
    expects_text: bool = False  # a typed answer (a date) is expected


@dataclass
class LearnTurn:
    """The new session state, the screens to show, and what to store with it in one transaction."""

    state: dict[str, Any]
    screens: list[Screen]
    parts: list[GradedPart] = field(default_factory=list)
    cards: list[tuple[str, str, str]] = field(default_factory=list)
    lesson: tuple[str, int, int] | None = None
    test: tuple[int, int, int, bool] | None = None
