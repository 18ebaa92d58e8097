"""Why an outcome: the path as walked (question, answer, the guide section behind it) and each date step by step.

Pure data, computed once from the answers; the chat's "Hvorfor?", `decide --json` and `log show` render the same
steps with templates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, Union

from flows.engine import Flow
from flows.model import Outcome

# How many days a date rule moves the date it starts from.
RULE_DAYS = {"day_before": -1, "same_day": 0, "own_start": 0}


@dataclass(frozen=True)
class AnswerStep:
    """One question as it was answered: where it led, and the guide section the question rests on."""

    flow: str
    question: str
    value: str
    source: str
    next: str
    carried: bool = False  # taken over from the flow that handed over, not asked again

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"kind": "answer", "flow": self.flow, "question": self.question, "value": self.value,
                "source": self.source, "next": self.next, "carried": self.carried}


@dataclass(frozen=True)
class OutcomeStep:
    """The node the path ended at in one flow; `use_flow` when it only hands over to another flow."""

    flow: str
    node: str
    result: str
    source: str
    use_flow: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"kind": "outcome", "flow": self.flow, "node": self.node, "result": self.result,
                "source": self.source, "use_flow": self.use_flow}


@dataclass(frozen=True)
class DateStep:
    """How one action's date was computed: a date answer, moved by the rule's days."""

    flow: str
    do: str
    marker_key: str
    from_question: str
    from_date: date
    rule: str
    days: int
    result: date

    def to_dict(self) -> dict[str, Any]:
        """JSON form, dates in ISO form."""
        return {"kind": "date", "flow": self.flow, "do": self.do, "marker_key": self.marker_key,
                "from_question": self.from_question, "from_date": self.from_date.isoformat(), "rule": self.rule,
                "days": self.days, "date": self.result.isoformat()}


@dataclass(frozen=True)
class DeadlineStep:
    """How a deadline was computed: a date answer plus whole calendar months."""

    flow: str
    from_question: str
    from_date: date
    months: int
    result: date

    def to_dict(self) -> dict[str, Any]:
        """JSON form, dates in ISO form."""
        return {"kind": "deadline", "flow": self.flow, "from_question": self.from_question,
                "from_date": self.from_date.isoformat(), "months": self.months, "date": self.result.isoformat()}


Step = Union[AnswerStep, OutcomeStep, DateStep, DeadlineStep]


def trace_flow(flow: Flow, answers: Mapping[str, str], today: date,
               carried: Mapping[str, str] | None = None) -> tuple[list[Step], Outcome | None]:
    """The steps of one flow walked with these answers, and its outcome (None if a question is still open).

    `carried` are the answers a previous flow handed over; they are marked so, since nobody was asked them here."""
    steps: list[Step] = []
    position = flow.walk({}, today)
    while position.question is not None:
        question = position.question
        if question.id not in answers:
            return steps, None
        value = answers[question.id]
        position = flow.step(position, value, today)
        following = position.question.id if position.question else position.outcome.node  # type: ignore[union-attr]
        steps.append(AnswerStep(flow.id, question.id, value, question.source, following,
                                carried=bool(carried) and (carried or {}).get(question.id) == value))
    outcome = position.outcome
    assert outcome is not None
    node = flow.spec.outcomes[outcome.node]
    steps.append(OutcomeStep(flow.id, node.id, node.result, node.source, node.use_flow))
    for rule, action in zip(node.actions, outcome.actions):
        steps.append(DateStep(flow.id, action.do, action.marker_key, rule.date_from,
                              date.fromisoformat(position.answers[rule.date_from]), rule.date_rule,
                              RULE_DAYS.get(rule.date_rule, 0), action.date))
    if outcome.deadline is not None and node.deadline_from:
        steps.append(DeadlineStep(flow.id, node.deadline_from, date.fromisoformat(position.answers[node.deadline_from]),
                                  node.deadline_months, outcome.deadline))
    return steps, outcome


class FlowSource(Protocol):
    """Where flows are looked up by id: a Rulebook, or a catalogue of several programmes."""

    def flow(self, flow_id: str) -> Flow: ...


def trace(rulebook: FlowSource, path: Sequence[tuple[str, Mapping[str, str]]], today: date) -> tuple[Step, ...]:
    """The whole path over every flow the dialogue went through, in order: (flow id, its answers) per flow.

    A flow whose answers end in a hand-over passes its carried answers on; the walk stops at an open question."""
    steps: list[Step] = []
    carried: Mapping[str, str] = {}
    for flow_id, answers in path:
        flow_steps, outcome = trace_flow(rulebook.flow(flow_id), answers, today, carried)
        steps += flow_steps
        if outcome is None:
            break
        carried = outcome.carry
    return tuple(steps)


def trace_dicts(steps: Sequence[Step]) -> list[dict[str, Any]]:
    """The trace as a JSON-ready list (decide --json, the decision log)."""
    return [step.to_dict() for step in steps]


def from_dicts(rows: Sequence[Mapping[str, Any]]) -> tuple[Step, ...]:
    """A stored trace read back into steps."""
    steps: list[Step] = []
    for row in rows:
        kind = row["kind"]
        if kind == "answer":
            steps.append(AnswerStep(row["flow"], row["question"], row["value"], row["source"], row["next"],
                                    bool(row.get("carried"))))
        elif kind == "outcome":
            steps.append(OutcomeStep(row["flow"], row["node"], row["result"], row["source"], row.get("use_flow")))
        elif kind == "date":
            steps.append(DateStep(row["flow"], row["do"], row["marker_key"], row["from_question"],
                                  date.fromisoformat(row["from_date"]), row["rule"], int(row["days"]),
                                  date.fromisoformat(row["date"])))
        elif kind == "deadline":
            steps.append(DeadlineStep(row["flow"], row["from_question"], date.fromisoformat(row["from_date"]),
                                      int(row["months"]), date.fromisoformat(row["date"])))
    return tuple(steps)
