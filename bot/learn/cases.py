"""Practice cases generated from the flows themselves: a path through a flow to a chosen outcome, with dates picked
to exercise the tricky rules (month ends, leap days, year ends, end equal to start, the 3-month window)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from flows.dates import add_months
from flows.engine import Flow, Rulebook
from flows.errors import AnswerError
from flows.model import Outcome, Question

# The "today" a case is set in: a few years, so leap days (2028) and ordinary years both come up.
_TODAYS = (date(2025, 11, 20), date(2026, 1, 15), date(2026, 6, 10), date(2027, 3, 5), date(2028, 3, 20),
           date(2028, 9, 2))
# How a case's event dates are chosen; each names the rule it exercises.
DATE_PATTERNS = ("month_end", "leap_day", "year_end", "end_equals_start", "window", "plain")
MAX_CHAIN = 3  # flows a case may pass through (start → switch → error)


@dataclass(frozen=True)
class Segment:
    """The answers given in one flow of a case, in the order they were asked."""

    flow: str
    answers: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Case:
    """A practice case: reproducible from its seed; the outcome is the engine's own."""

    seed: int
    today: date
    pattern: str
    segments: tuple[Segment, ...]
    outcome: Outcome

    @property
    def flow(self) -> str:
        """The flow the case starts in (the situation the story describes first)."""
        return self.segments[0].flow

    @property
    def flows(self) -> tuple[str, ...]:
        """Every flow the case passes through; naming any of them as the situation leads to the right place."""
        return tuple(segment.flow for segment in self.segments)

    def answers(self) -> dict[str, str]:
        """All answers of the case by question id (later flows win; the story reads them)."""
        merged: dict[str, str] = {}
        for segment in self.segments:
            merged.update(segment.answers)
        return merged


class CaseError(RuntimeError):
    """No path through the flow reaches the outcome asked for."""


def practice_flows(rulebook: Rulebook) -> list[str]:
    """The flows a case can be about: every situation of the router (the router itself is the situation question)."""
    return [flow_id for flow_id in rulebook.flows if flow_id != rulebook.programme.entry]


@lru_cache(maxsize=256)
def generate(rulebook: Rulebook, seed: int, flow_id: str | None = None, outcome: str | None = None) -> Case:
    """The case for this seed; flow and outcome are drawn from the seed unless given (kept: a case is asked for
    again at every step of answering it)."""
    rng = random.Random(seed)
    # Draw both whether given or not, so a case drawn freely is generated again from (seed, its flow, its outcome).
    drawn_flow = rng.choice(practice_flows(rulebook))
    flow_id = flow_id or drawn_flow
    flow = rulebook.flow(flow_id)
    drawn = rng.choice(sorted(flow.spec.outcomes))
    target = outcome or drawn
    if target not in flow.spec.outcomes:
        raise CaseError(f"flow {flow_id!r} has no outcome {target!r}")
    today = rng.choice(_TODAYS)
    pattern = rng.choice(DATE_PATTERNS)
    segments: list[Segment] = []
    carried: dict[str, str] = {}
    for _ in range(MAX_CHAIN):
        answers = _search(flow, target, dict(carried), rng, today, pattern)
        if answers is None:
            raise CaseError(f"no path through {flow.id!r} reaches {target!r}")
        segments.append(Segment(flow.id, tuple((q, v) for q, v in answers.items() if q not in carried)))
        reached = flow.walk(answers, today).outcome
        assert reached is not None
        if not reached.use_flow:
            return Case(seed, today, pattern, tuple(segments), reached)
        flow, carried = rulebook.flow(reached.use_flow), dict(reached.carry)
        target = _next_target(flow, carried, rng, today, pattern)
    raise CaseError(f"case {seed} passes through more than {MAX_CHAIN} flows")


def _next_target(flow: Flow, carried: dict[str, str], rng: random.Random, today: date, pattern: str) -> str:
    """After a hand-over: an outcome the carried answers still allow (the one they decide, if they decide one)."""
    position = flow.walk(carried, today)
    if position.outcome is not None:
        return position.outcome.node
    targets = sorted(_reachable(flow, position.question))
    rng.shuffle(targets)
    for target in targets:
        if _search(flow, target, dict(carried), random.Random(rng.random()), today, pattern) is not None:
            return target
    raise CaseError(f"no outcome of {flow.id!r} can follow what the hand-over carried")


def _reachable(flow: Flow, question: Question | None) -> set[str]:
    """The outcomes a walk from this question can reach (by the flow's arrows, whatever the conditions)."""
    if question is None:
        return set(flow.spec.outcomes) if not flow.spec.questions else set()
    seen, todo, found = set(), [question.id], set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in flow.spec.outcomes:
            found.add(node)
        elif node in flow.spec.questions:
            todo.extend(branch.target for branch in flow.spec.questions[node].branches)
    return found


def _search(flow: Flow, target: str, answers: dict[str, str], rng: random.Random, today: date,
            pattern: str) -> dict[str, str] | None:
    """Answers (depth first, in a seeded order) that take the flow to the target outcome, or None."""
    position = flow.walk(answers, today)
    if position.outcome is not None:
        return answers if position.outcome.node == target else None
    question = position.question
    assert question is not None
    if target not in _reachable(flow, question):
        return None
    for value in _candidates(question, answers, rng, today, pattern):
        try:
            flow.check(question, value, answers)
        except AnswerError:
            continue
        found = _search(flow, target, {**answers, question.id: value}, rng, today, pattern)
        if found is not None:
            return found
    return None


def _candidates(question: Question, answers: dict[str, str], rng: random.Random, today: date,
                pattern: str) -> list[str]:
    """The values to try for a question: options in a seeded order; for a date, the pattern's tricky date first."""
    if question.kind != "date":
        options = list(question.options)
        rng.shuffle(options)
        return options
    earlier = [date.fromisoformat(value) for value in answers.values() if _is_date(value)]
    if not earlier:  # today last: a rule that dates an action on the day of the decision (2017) needs it
        firsts = _first_dates(rng, today, pattern, recent=question.suggest_today)
        return list(dict.fromkeys(day.isoformat() for day in firsts + [today]))
    anchor = max(earlier)
    tricky = _tricky(anchor, rng, today, pattern)
    others = [anchor + timedelta(days=1), anchor, _first_of_month(anchor, rng.randint(1, 4)),
              anchor + timedelta(days=rng.randint(20, 150)), anchor - timedelta(days=rng.randint(5, 40))]
    rng.shuffle(others)
    return list(dict.fromkeys(day.isoformat() for day in [tricky] + others + [today]))


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _first_of_month(day: date, months: int) -> date:
    return add_months(day.replace(day=1), months)


def _first_dates(rng: random.Random, today: date, pattern: str, recent: bool) -> list[date]:
    """A case's first date: an event (a move, a start) in the last weeks, or a marker's start some months back,
    on a tricky day for the pattern."""
    base = today - timedelta(days=rng.randint(3, 45) if recent else rng.randint(60, 300))
    if pattern == "window":  # a move on a month's last day, which the month three later may lack
        last = _first_of_month(base, 1) - timedelta(days=1)
        return [last if last <= today else base.replace(day=1) - timedelta(days=1), base]
    if pattern == "month_end":
        return [_first_of_month(base, 1) - timedelta(days=1), base]
    return [base, _first_of_month(base, 1)]


def _tricky(anchor: date, rng: random.Random, today: date, pattern: str) -> date:
    """A date after `anchor` that puts the pattern's rule to work."""
    if pattern == "end_equals_start":
        return anchor + timedelta(days=1)
    if pattern == "leap_day":
        for year in range(anchor.year, anchor.year + 2):
            march = date(year, 3, 1)
            if anchor < march <= today + timedelta(days=300) and (march - timedelta(days=1)).day == 29:
                return march
    if pattern == "year_end":
        return date(anchor.year + 1, 1, 1)
    if pattern == "month_end":
        return _first_of_month(anchor, rng.randint(1, 3))
    return anchor + timedelta(days=rng.randint(20, 120))
