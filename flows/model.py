"""The shapes a flowchart is made of: questions, outcomes, conditions, and what a finished dialogue yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

QuestionKind = Literal["yes_no", "choice", "date"]
YES_NO = ("yes", "no")

RESULTS = ("register", "no_change", "not_eligible", "cannot_participate", "no_marker", "use_flow", "ask_star")
EFFECTS = ("counts", "counts_while_in_job_or_education", "counts_while_in_job", "leaves",
           "leaves_unless_job_or_education_within_3_months", "not_counted", "unchanged",
           # 'Flere skal med' (2017), rulebook-2017.md §4.1
           "counts_in_group1_monitoring", "still_counts_in_group1_monitoring", "not_counted_in_group1",
           "leaves_gross_group")
# Every warning code, in the order an outcome lists them (rulebook-2017.md §4.2 extends rulebook.md's).
WARNINGS = ("end_equals_start", "backdated", "assumed_date_rule", "implied_end", "postponed_marker_open",
            "far_past", "far_future")
# Date rules of the guide: the day before a date, the same day, or the marker's own start date (error registration).
DATE_RULES = ("day_before", "same_day", "own_start")
# How a condition compares an answer: equal to a value; the same answer as another question; a date compared with
# another date answer or with today; or a date whose window of N calendar months closed before today.
CONDITION_OPS = ("equals", "same_as", "before", "not_after", "after", "closed_after_months")
# The ops that compare an answer with another question's answer (or a date with today).
COMPARISON_OPS = ("same_as", "before", "not_after", "after")
# The value a date comparison names to compare with the dialogue's day instead of another answer.
TODAY = "today"


@dataclass(frozen=True)
class Condition:
    """One test on the answers so far: `question` compared by `op` with `value` (an answer value or a question id)."""

    question: str
    op: str
    value: str


@dataclass(frozen=True)
class WarningRule:
    """A warning an outcome carries when every condition holds (no conditions: always)."""

    code: str
    conditions: tuple[Condition, ...] = ()


@dataclass(frozen=True)
class Branch:
    """Go to `target` when every condition holds (no conditions: always)."""

    conditions: tuple[Condition, ...]
    target: str


@dataclass(frozen=True)
class Guard:
    """An answer the dialogue refuses and asks again: every condition holds → message block `message`."""

    conditions: tuple[Condition, ...]
    message: str


@dataclass(frozen=True)
class Question:
    """A node that asks one thing; its id is the rulebook's question id."""

    id: str
    kind: QuestionKind
    options: tuple[str, ...]
    branches: tuple[Branch, ...]
    guards: tuple[Guard, ...]
    source: str
    optional: bool = False
    suggest_today: bool = False
    # The start date of a marker that already exists: it may lie years back, so it gets no far_past/far_future.
    existing_start: bool = False
    # Typed text read as an answer before the labels are tried (e.g. a marker name as it stands in the fagsystem).
    typed: tuple["TypedRule", ...] = ()


@dataclass(frozen=True)
class TypedRule:
    """Typed text (compared normalised) that picks `answer`: it starts with `starts` and/or contains `contains`,
    and does not contain `without`."""

    answer: str
    starts: str = ""
    contains: str = ""
    without: str = ""


@dataclass(frozen=True)
class MarkerRule:
    """Which marker an action is about: a fixed key, an answer (optionally mapped), or the other one than an answer."""

    key: str | None = None
    answer: str | None = None
    mapping: tuple[tuple[str, str], ...] = ()
    other_than: str | None = None


@dataclass(frozen=True)
class ActionRule:
    """One marker action of an outcome, before the answers fill in marker and date."""

    do: Literal["create", "end"]
    marker: MarkerRule
    date_rule: str
    date_from: str
    marker_start: str | None = None
    other_person_from: str | None = None


@dataclass(frozen=True)
class OutcomeNode:
    """A node that ends the flow with the rulebook's result, effect and actions."""

    id: str
    result: str
    effect: str | None
    actions: tuple[ActionRule, ...]
    source: str
    use_flow: str | None = None
    carry: tuple[tuple[str, str], ...] = ()  # the next flow's question -> this flow's question (its answer)
    # The next flow's question -> an answer the hand-over itself settles: ("value", "yes") or ("other_than", question).
    carry_fixed: tuple[tuple[str, str, str], ...] = ()
    gap: str | None = None
    deadline_from: str | None = None
    deadline_months: int = 0
    warnings: tuple[WarningRule, ...] = ()


@dataclass(frozen=True)
class Action:
    """A marker action the caseworker must carry out."""

    do: str
    marker_key: str
    marker: str
    date: date
    other_person: bool

    def to_dict(self) -> dict[str, Any]:
        """The rulebook's action object, dates in ISO form."""
        return {"do": self.do, "marker": self.marker, "marker_key": self.marker_key,
                "date": self.date.isoformat(), "other_person": self.other_person}


@dataclass(frozen=True)
class Outcome:
    """What a finished dialogue yields, in the rulebook's contract."""

    flow: str
    node: str
    result: str
    actions: tuple[Action, ...]
    effect: str | None
    warnings: tuple[str, ...]
    sources: tuple[str, ...]
    use_flow: str | None = None
    gap: str | None = None
    deadline: date | None = None
    carry: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The rulebook's outcome object (plus the outcome node, gap and deadline)."""
        return {
            "result": self.result,
            "actions": [action.to_dict() for action in self.actions],
            "effect": self.effect,
            "use_flow": self.use_flow,
            "warnings": list(self.warnings),
            "sources": list(self.sources),
            "outcome": self.node,
            "gap": self.gap,
            "deadline": self.deadline.isoformat() if self.deadline else None,
        }
