"""A dialogue's state and what one turn of it yields: the data every channel passes to and from the conversation."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from datetime import time as dt_time
from typing import Any

from flows.dates import COPENHAGEN, parse_date, today_in_copenhagen
from flows.errors import AnswerError

from bot.config import ConfigError
from flows.engine import Position
from storage.star import Draft

STATE_VERSION = 1


def current_day() -> date:
    """Today in Denmark; UNGEBOT_TODAY (an ISO date, or a date as the chat reads it) pins it for training cases and
    tests. ConfigError when it is set to something that is not a date."""
    pinned = os.environ.get("UNGEBOT_TODAY", "").strip()
    if not pinned:
        return _today(time.time())
    try:
        return date.fromisoformat(pinned)
    except ValueError:
        pass
    try:
        return parse_date(pinned, today_in_copenhagen())
    except AnswerError:
        raise ConfigError(f"UNGEBOT_TODAY: »{pinned[:40]}« er ikke en dato. Skriv den som 2026-11-23, "
                          "eller fjern UNGEBOT_TODAY, så bruges dagens dato.") from None


def _today(now: float) -> date:
    """Today in Denmark at `now` (seconds since the epoch), remembered until its last second (it is asked for on
    every update; finding it through the time zone costs a few µs)."""
    global _day
    if not _day[0] <= now < _day[1]:
        today = today_in_copenhagen(datetime.fromtimestamp(now, timezone.utc))
        start = datetime.combine(today, dt_time(), COPENHAGEN).timestamp()
        end = datetime.combine(today + timedelta(days=1), dt_time(), COPENHAGEN).timestamp()
        _day = (start, end, today)
    return _day[2]


_day: tuple[float, float, date] = (0.0, 0.0, date.min)  # the day _today last found: its first second, the next day's


@dataclass
class Segment:
    """The answers given in one flow, in the order they were given."""

    flow: str
    answers: dict[str, str] = field(default_factory=dict)


@dataclass
class DialogueState:
    """Everything a dialogue needs to resume: its flows and answers, a pending confirmation, a step counter."""

    segments: list[Segment]
    pending: dict[str, str] | None = None
    step: int = 0
    last_update: int = 0  # the newest Telegram update applied, so a redelivered update is not applied twice
    numbering: int = 0  # ... in this numbering of Telegram's updates (it numbers afresh after a quiet week)
    programme: str | None = None  # the caseworker's own choice of programme (/program), kept across new cases
    star_drafts: list[str] = field(default_factory=list)  # drafts for STAR saved for later, shown again by /star
    decision_id: int | None = None  # the logged decision now shown (set by storage.records.record_turn)
    replaced: list[int] = field(default_factory=list)  # shown decisions an answer change has made void, to mark
    # Walks already made during this turn, by (flow, answers, today); never stored, gone with the turn.
    positions: dict[tuple[Any, ...], Position] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for storage."""
        # Copies, never the state's own dict and list: a dict kept to compare the next turn's with (the channels
        # write a state only when it changed) must not change along with the state.
        data = {"v": STATE_VERSION, "step": self.step, "pending": None if self.pending is None else dict(self.pending),
                "last_update": self.last_update, "programme": self.programme, "star_drafts": list(self.star_drafts),
                "segments": [{"flow": s.flow, "answers": list(s.answers.items())} for s in self.segments]}
        if self.numbering:
            data["numbering"] = self.numbering
        if self.decision_id is not None:
            data["decision_id"] = self.decision_id
        if self.replaced:
            data["replaced"] = list(self.replaced)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DialogueState":
        """Read a stored state back."""
        segments = [Segment(s["flow"], dict(s["answers"])) for s in data["segments"]]
        return cls(segments=segments, pending=data.get("pending"), step=int(data.get("step", 0)),
                   last_update=int(data.get("last_update", 0)), numbering=int(data.get("numbering", 0)),
                   programme=data.get("programme"),
                   star_drafts=list(data.get("star_drafts", [])),
                   decision_id=data.get("decision_id"), replaced=list(data.get("replaced") or ()))


Options = tuple[tuple[str, str], ...]  # (value, label) of the buttons a reply shows


@dataclass(frozen=True)
class Reply:
    """One message to show: HTML text and, for a question, the options as (value, label)."""

    text: str
    options: Options = ()
    kind: str = "info"
    today_button: bool = False


@dataclass(frozen=True)
class Decision:
    """A finished dialogue, ready for the decision log."""

    flow: str
    answers: list[dict[str, str]]
    outcome: dict[str, Any]
    decided_on: date


@dataclass
class Turn:
    """The result of one input: the new state, what to show, and a decision to log if the dialogue ended."""

    state: DialogueState
    replies: list[Reply]
    decision: Decision | None = None
    star_draft: Draft | None = None  # to store now; its id goes into state.pending["question"]
    star_send: int | None = None  # the stored question the caseworker confirmed
    ends: bool = False  # the caseworker ended the chat (/slut); the state is kept for next time
