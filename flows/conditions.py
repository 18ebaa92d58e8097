"""Evaluate a flow's conditions (branch tests and reject rules) against the answers so far and today's date."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from flows.dates import add_months
from flows.model import TODAY, Condition


def holds(condition: Condition, answers: Mapping[str, str], today: date | None) -> bool:
    """True when the condition holds; a condition on an unanswered (or skipped) question never holds, nor one on
    today when the day is not known."""
    value = answers.get(condition.question)
    if not value:
        return False
    if condition.op == "equals":
        return value == condition.value
    if condition.op == "closed_after_months":
        # The window of N calendar months after the date closed on its last day, so it is closed from the day after.
        return today is not None and add_months(date.fromisoformat(value), int(condition.value)) < today
    if condition.value == TODAY:
        other = today.isoformat() if today else None
    else:
        other = answers.get(condition.value)
    if not other:
        return False
    if condition.op == "same_as":
        return value == other  # choices by value, dates in their one ISO form
    left, right = date.fromisoformat(value), date.fromisoformat(other)
    if condition.op == "before":
        return left < right
    if condition.op == "after":
        return left > right
    return left <= right  # not_after


def predicate(conditions: tuple[Condition, ...]) -> Callable[[Any], bool]:
    """A `transitions` condition callback: the walker (event.model) carries the answers and today."""
    def check(event: Any) -> bool:
        model = event.model
        return all(holds(condition, model.answers, model.today) for condition in conditions)
    check.__name__ = " and ".join(describe(c) for c in conditions)
    return check


def describe(condition: Condition) -> str:
    """A condition as the diagrams show it."""
    if condition.op == "equals":
        return f"{condition.question}={condition.value}"
    if condition.op == "closed_after_months":
        return f"{condition.question} + {condition.value} months before today"
    return f"{condition.question} {condition.op} {condition.value}"
