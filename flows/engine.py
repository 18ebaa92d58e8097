"""Walk a dialogue's answers through a flow's state machine to its next question or its outcome."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

from transitions import Machine
from transitions.core import EventData

from flows.conditions import holds, predicate
from flows.dates import add_months, day_before
from flows.errors import AnswerError, FlowError
from flows.loader import FLOWS_DIR, TEMPLATES_DIR, FlowSpec, Programme, load_flow_spec, load_programme
from flows.model import WARNINGS, Action, ActionRule, MarkerRule, Outcome, OutcomeNode, Question

TRIGGER = "answer"
WARNING_ORDER = WARNINGS


class _Walker:
    """The throwaway model a walk moves through the shared Machine; never registered with it."""

    __slots__ = ("state", "answers", "today")

    def __init__(self, state: str, answers: dict[str, str], today: date | None = None) -> None:
        self.state = state
        self.answers = answers
        self.today = today


@dataclass(frozen=True)
class Position:
    """Where a dialogue stands: the answers that led here, and the question asked or the outcome reached."""

    flow: "Flow"
    answers: Mapping[str, str]
    question: Question | None = None
    outcome: Outcome | None = None
    rejected: AnswerError | None = field(default=None, compare=False)

    @property
    def finished(self) -> bool:
        """True when the flow has reached an outcome."""
        return self.outcome is not None


def _as_date(value: str) -> date:
    return date.fromisoformat(value)


def transition_table(spec: FlowSpec) -> list[dict[str, Any]]:
    """The flow's transitions in `transitions`' own form, one per branch, in the order they are tried."""
    table = []
    for question in spec.questions.values():
        for branch in question.branches:
            entry: dict[str, Any] = {"trigger": TRIGGER, "source": question.id, "dest": branch.target}
            if branch.conditions:
                entry["conditions"] = [predicate(branch.conditions)]
            table.append(entry)
    return table


class Flow:
    """A flowchart: its nodes, and the one state machine every dialogue of it is walked through."""

    def __init__(self, spec: FlowSpec, programme: Programme) -> None:
        self.spec = spec
        self.programme = programme
        self.id = spec.id
        self.title = spec.title
        self.machine = Machine(model=None, states=list(spec.questions) + list(spec.outcomes),
                               transitions=transition_table(spec), initial=spec.start,
                               auto_transitions=False, send_event=True, ignore_invalid_triggers=False)
        # A flow without questions (the guide is silent) starts at its outcome and never fires a trigger.
        self._answer = self.machine.events.get(TRIGGER)
        # The machine's own transitions out of each node, in the order it tries them (see _fire).
        self._routes = dict(self._answer.transitions) if self._answer is not None else {}

    def question(self, node: str) -> Question | None:
        """The question with this id, if the node is a question."""
        return self.spec.questions.get(node)

    @property
    def nodes(self) -> list[str]:
        """Every node id, questions first."""
        return list(self.spec.questions) + list(self.spec.outcomes)

    def walk(self, answers: Mapping[str, str] | Iterable[tuple[str, str]], today: date) -> Position:
        """Replay answers (by question id) from the start; stop at the first question without a valid answer."""
        given = dict(answers)
        walker = _Walker(self.spec.start, {}, today)
        while True:
            position = self._position(walker, today)
            if position.finished or position.question is None:
                return position
            value = given.get(position.question.id)
            if value is None:
                return position
            try:
                self.check(position.question, value, walker.answers, today)
            except AnswerError as exc:
                return Position(self, dict(walker.answers), question=position.question, rejected=exc)
            walker.answers[position.question.id] = value
            self._fire(walker)

    def change(self, answers: Mapping[str, str], question_id: str, value: str, today: date) -> Position:
        """Change an earlier answer; later answers are kept while the path still asks them and they still fit."""
        if question_id not in self.spec.questions:
            raise KeyError(f"flow {self.id!r} has no question {question_id!r}")
        return self.walk({**answers, question_id: value}, today)

    def step(self, position: Position, value: str, today: date) -> Position:
        """Answer the current question with a canonical value (raises AnswerError) and move on by one."""
        if position.question is None:
            raise ValueError("the flow has already reached an outcome")
        self.check(position.question, value, position.answers, today)
        walker = _Walker(position.question.id, {**position.answers, position.question.id: value}, today)
        self._fire(walker)
        return self._position(walker, today)

    def _fire(self, walker: _Walker) -> None:
        """Move the walker along the first of the machine's transitions from its node whose conditions hold.

        This is what the machine's `answer` trigger does for a machine built as ours is (no callbacks, no queue,
        no model registered), without the bookkeeping around it that cost a fifth of each answer's time;
        tests/test_engine.py checks that both move every scenario's walk alike."""
        if self._answer is not None:
            event = EventData(None, self._answer, self.machine, walker, (), {})
            for transition in self._routes.get(walker.state, ()):
                if all(condition.check(event) for condition in transition.conditions):
                    if transition.dest is not None:  # None: an internal transition, which stays (ours have none)
                        walker.state = transition.dest
                    return
        raise FlowError(f"{self.spec.path}: node '{walker.state}': no transition took the answer")

    def check(self, question: Question, value: str, answers: Mapping[str, str], today: date | None = None) -> None:
        """Accept a canonical value for a question, given earlier answers, or raise AnswerError saying why not."""
        if question.kind == "date":
            if value == "" and question.optional:
                return
            try:
                _as_date(value)
            except ValueError:
                raise AnswerError("date_unreadable", text=value) from None
        elif value not in question.options:
            raise AnswerError("choice_unknown", text=value)
        candidate = {**answers, question.id: value}
        for guard in question.guards:
            if all(holds(condition, candidate, today) for condition in guard.conditions):
                raise AnswerError("guard", message=guard.message, question=question.id)

    def _position(self, walker: _Walker, today: date) -> Position:
        node = self.spec.outcomes.get(walker.state)
        if node is None:
            return Position(self, walker.answers, question=self.spec.questions[walker.state])
        return Position(self, walker.answers, outcome=self.outcome(node, walker.answers, today))

    def outcome(self, node: OutcomeNode, answers: Mapping[str, str], today: date) -> Outcome:
        """Fill an outcome node's actions, dates and warnings from the answers."""
        warnings = set(_date_warnings(self.spec, answers, today))
        warnings.update(rule.code for rule in node.warnings
                        if all(holds(condition, answers, today) for condition in rule.conditions))
        actions = []
        for rule in node.actions:
            action = self._action(rule, answers)
            actions.append(action)
            if rule.do == "end" and rule.marker_start and rule.date_rule != "own_start":
                start = _as_date(answers[rule.marker_start])
                if action.date < start:
                    raise FlowError(f"{self.spec.path}: node '{node.id}': end date before the marker's start "
                                    "was not caught by a guard")
                if action.date == start:
                    warnings.add("end_equals_start")
        deadline = None
        if node.deadline_from and answers.get(node.deadline_from):
            deadline = add_months(_as_date(answers[node.deadline_from]), node.deadline_months)
        sources = tuple(dict.fromkeys(
            [self.spec.questions[q].source for q in answers if q in self.spec.questions] + [node.source]))
        return Outcome(
            flow=self.id, node=node.id, result=node.result, actions=tuple(actions), effect=node.effect,
            warnings=tuple(code for code in WARNING_ORDER if code in warnings), sources=sources,
            use_flow=node.use_flow, gap=node.gap, deadline=deadline,
            carry=self._carried(node, answers))

    def _carried(self, node: OutcomeNode, answers: Mapping[str, str]) -> dict[str, str]:
        """What a hand-over gives the next flow: answers given here, and what the hand-over itself settles."""
        carried = {target: answers[source] for target, source in node.carry if source in answers}
        for target, kind, argument in node.carry_fixed:
            if kind == "value":
                carried[target] = argument
            elif argument in answers:  # other_than: the other of the question's two options
                carried[target] = next(o for o in self.spec.questions[argument].options if o != answers[argument])
        return carried

    def _action(self, rule: ActionRule, answers: Mapping[str, str]) -> Action:
        key = self._marker_key(rule.marker, answers)
        base = _as_date(answers[rule.date_from])
        when = day_before(base) if rule.date_rule == "day_before" else base
        other = answers.get(rule.other_person_from or "") == "yes"
        return Action(do=rule.do, marker_key=key, marker=self.programme.markers[key], date=when, other_person=other)

    def _marker_key(self, rule: MarkerRule, answers: Mapping[str, str]) -> str:
        if rule.key:
            return rule.key
        if rule.other_than:
            current = answers[rule.other_than]
            return next(key for key in self.programme.markers if key != current)
        return dict(rule.mapping)[answers[rule.answer or ""]]


def _date_warnings(spec: FlowSpec, answers: Mapping[str, str], today: date) -> Iterable[str]:
    """far_past / far_future for the event's date answers more than a year from today."""
    for qid, value in answers.items():
        question = spec.questions.get(qid)
        warning = far_date_warning(question, value, today) if question else None
        if warning:
            yield warning


def far_date_warning(question: Question, value: str, today: date) -> str | None:
    """The far_past/far_future warning an answer to this question earns: only a date of the event being registered,
    never the start date of a marker that already exists (that may lie years back)."""
    if question.kind != "date" or question.existing_start or not value:
        return None
    return distance_warning(_as_date(value), today)


def distance_warning(value: date, today: date) -> str | None:
    """'far_past' or 'far_future' when a date lies more than one year from today, else None."""
    if value < add_months(today, -12):
        return "far_past"
    if value > add_months(today, 12):
        return "far_future"
    return None


class Rulebook:
    """A programme's flows, loaded and checked once, with their state machines built once."""

    def __init__(self, directory: Path, templates: Path = TEMPLATES_DIR, facts: str = "programme.yaml") -> None:
        self.programme = load_programme(directory, facts)
        specs = [load_flow_spec(path, self.programme, templates)
                 for path in sorted(directory.glob("*.yaml")) if path.name != facts]
        self.flows = {spec.id: Flow(spec, self.programme) for spec in specs}
        self._check_links()

    @property
    def edition(self) -> str:
        """The rulebook edition every decision names."""
        return self.programme.edition

    @cached_property  # asked on every hand-over; fixed once loaded
    def routers(self) -> frozenset[str]:
        """Flows that only pass the case on: their hand-over is not shown as a result of its own."""
        return frozenset([self.programme.entry])

    def entry(self, choice: str | None = None) -> str:
        """The first flow of a new case (a catalogue of several programmes may start elsewhere by choice)."""
        return self.programme.entry

    def flow(self, flow_id: str) -> Flow:
        """The flow with this id; KeyError names the known ones."""
        try:
            return self.flows[flow_id]
        except KeyError:
            raise KeyError(f"unknown flow {flow_id!r}; known: {', '.join(self.flows)}") from None

    def _check_links(self) -> None:
        if self.programme.entry not in self.flows:
            raise FlowError(f"{self.programme.directory / 'programme.yaml'}: entry flow "
                            f"{self.programme.entry!r} has no file")
        for flow in self.flows.values():
            for node in flow.spec.outcomes.values():
                if node.use_flow is None:
                    continue
                target = self.flows.get(node.use_flow)
                if target is None:
                    raise FlowError(f"{flow.spec.path}: node '{node.id}': use_flow {node.use_flow!r} has no file")
                for question_id in [t for t, _ in node.carry] + [t for t, _, _ in node.carry_fixed]:
                    if question_id not in target.spec.questions:
                        raise FlowError(f"{flow.spec.path}: node '{node.id}': carry names {question_id!r}, "
                                        f"which is not a question of flow {node.use_flow!r}")
                _check_fixed(flow, node, target)


def _check_fixed(flow: Flow, node: OutcomeNode, target: Flow) -> None:
    """A settled carry must be an answer the next flow's question can take."""
    for question_id, kind, argument in node.carry_fixed:
        question = target.spec.questions[question_id]
        given = (argument,) if kind == "value" else flow.spec.questions[argument].options
        if not set(given) <= set(question.options):  # a yes/no question's are yes and no; a date question has none
            raise FlowError(f"{flow.spec.path}: node '{node.id}': carry gives {question_id!r} "
                            f"{list(given)}, which {node.use_flow!r} does not take as answers to it")


_DEFAULT: dict[str, Rulebook] = {}


def load_rulebook(programme: str = "ungeloeftet") -> Rulebook:
    """The programme's rulebook, loaded on first use and kept for the life of the process."""
    if programme not in _DEFAULT:
        _DEFAULT[programme] = Rulebook(FLOWS_DIR / programme)
    return _DEFAULT[programme]
