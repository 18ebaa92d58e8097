"""Walks and steps through the flows, shared by every dialogue of one conversation where they cannot differ: on the
same day, through the same flow, with the same answers in the same order, each of them one of its question's
options (none a typed date).

A walk or a step is a pure function of those (flows/engine.py: no I/O, no state outside its arguments), so two
caseworkers at the same choices on the same day get the same Position; most answers are presses of an option, and
the first steps of every case are the same few. Walks through a typed answer (a date) are not kept: they differ
from case to case, and would only fill the store. Nothing is kept for an answer that is refused (AnswerError): it is raised each time.
The store is emptied when the day changes, and when it holds KEPT positions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flows.engine import Flow, Position

KEPT = 4096  # positions kept, walks and steps together


class SharedWalks:
    """Positions by (flow, answers in order, the question answered and its value, today), for one rulebook."""

    def __init__(self) -> None:
        self._kept: dict[tuple[Any, ...], Position] = {}
        self._day: date | None = None
        self._typed: dict[Flow, frozenset[str]] = {}  # each flow's questions answered without options (dates)

    def walk(self, flow: Flow, answers: Mapping[str, str], today: date) -> Position:
        """flow.walk(answers, today), kept when every answer is an option."""
        if not self._choices_only(flow, answers, today):
            return flow.walk(answers, today)
        key = (flow, tuple(answers.items()), today)
        found = self._kept.get(key)
        if found is None:
            found = self._keep(key, flow.walk(answers, today))
        return found

    def step(self, flow: Flow, position: Position, value: str, today: date) -> Position:
        """flow.step(position, value, today), kept when the answers so far and this one are all options."""
        question = position.question
        if question is None or not question.options or not self._choices_only(flow, position.answers, today):
            return flow.step(position, value, today)
        key = (flow, tuple(position.answers.items()), question.id, value, today)
        found = self._kept.get(key)
        if found is None:
            found = self._keep(key, flow.step(position, value, today))  # a refused answer raises: nothing kept
        return found

    def _choices_only(self, flow: Flow, answers: Mapping[str, str], today: date) -> bool:
        if today != self._day:
            self._kept.clear()
            self._day = today
        typed = self._typed.get(flow)
        if typed is None:
            typed = self._typed[flow] = frozenset(q for q, spec in flow.spec.questions.items() if not spec.options)
        return typed.isdisjoint(answers)

    def _keep(self, key: tuple[Any, ...], position: Position) -> Position:
        if len(self._kept) >= KEPT:
            self._kept.clear()
        self._kept[key] = position
        return position
