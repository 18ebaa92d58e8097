"""Conditions: each way a branch or reject rule compares an answer, at its edges."""

from __future__ import annotations

from datetime import date

import pytest

from flows.conditions import describe, holds
from flows.model import Condition

TODAY = date(2026, 1, 15)
ANSWERS = {"marker": "ips", "other_marker": "ips", "third": "fusm", "start": "2026-01-10", "end": "2026-01-10",
           "later": "2026-01-11", "moved": "2025-10-14", "moved_later": "2025-10-15", "skipped": ""}


@pytest.mark.parametrize("question, op, value, today, expected", [
    ("marker", "equals", "ips", TODAY, True), ("marker", "equals", "fusm", TODAY, False),
    ("skipped", "equals", "", TODAY, False), ("missing", "equals", "ips", TODAY, False),
    ("marker", "same_as", "other_marker", TODAY, True), ("marker", "same_as", "third", TODAY, False),
    ("start", "same_as", "end", TODAY, True), ("start", "same_as", "later", TODAY, False),
    ("start", "same_as", "missing", TODAY, False), ("start", "same_as", "skipped", TODAY, False),
    ("start", "before", "later", TODAY, True), ("start", "before", "end", TODAY, False),
    ("later", "before", "start", TODAY, False),
    ("start", "not_after", "end", TODAY, True), ("start", "not_after", "later", TODAY, True),
    ("later", "not_after", "start", TODAY, False),
    ("later", "after", "start", TODAY, True), ("start", "after", "end", TODAY, False),
    ("start", "before", "today", TODAY, True), ("start", "after", "today", TODAY, False),
    ("start", "before", "today", None, False),
    ("moved", "closed_after_months", "3", TODAY, True),          # closed 14 January, the day before today
    ("moved_later", "closed_after_months", "3", TODAY, False),   # closes today: still open
    ("moved", "closed_after_months", "3", None, False),
    ("moved_later", "closed_after_months", "2", TODAY, True),
])
def test_each_comparison_at_its_edges(question: str, op: str, value: str, today: date | None, expected: bool) -> None:
    assert holds(Condition(question, op, value), ANSWERS, today) is expected


@pytest.mark.parametrize("condition, text", [
    (Condition("marker", "equals", "ips"), "marker=ips"),
    (Condition("move_date", "closed_after_months", "3"), "move_date + 3 months before today"),
    (Condition("new", "before", "old"), "new before old"),
])
def test_conditions_are_described_for_the_diagrams(condition: Condition, text: str) -> None:
    assert describe(condition) == text
