"""The checks behind the loader: each node of a flow file read into typed form, or a FlowError naming file and node."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.errors import FlowError
from flows.model import (
    COMPARISON_OPS, DATE_RULES, EFFECTS, RESULTS, TODAY, WARNINGS, ActionRule, Branch, Condition, Guard,
    MarkerRule, OutcomeNode, Question, TypedRule, WarningRule,
)

if TYPE_CHECKING:
    from flows.loader import Programme

_SOURCE = re.compile(r"(000|002): (.+?)(?: › (.+))?")


class Checker:
    """Collects the context (file, node) that every error message must name."""

    def __init__(self, path: Path, programme: "Programme | None" = None) -> None:
        self.path = path
        self.programme = programme
        self.node = ""

    def fail(self, problem: str) -> FlowError:
        where = f"node '{self.node}'" if self.node else "top level"
        return FlowError(f"{self.path}: {where}: {problem}")

    def mapping(self, value: Any, what: str, required: set[str], allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"{what} must be a mapping, not {type(value).__name__}")
        missing = required - value.keys()
        if missing:
            raise self.fail(f"{what} lacks {', '.join(sorted(missing))}")
        unknown = set(value) - required - allowed
        if unknown:
            raise self.fail(f"{what} has unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        return value

    def text(self, value: Any, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{what} must be a non-empty string, not {value!r}")
        return value

    def source(self, value: Any) -> str:
        text = self.text(value, "source")
        match = _SOURCE.fullmatch(text)
        if not match:
            raise self.fail(f"source {text!r} is not '000: <section>[ › <box>]'")
        if self.programme and match.group(2) not in self.programme.sections:
            raise self.fail(f"source {text!r} names a section the programme does not list")
        return text


def question_node(check: Checker, qid: str, raw: Any, all_questions: dict[str, Any], known: set[str]) -> Question:
    check.node = qid
    data = check.mapping(raw, "question", {"kind", "source", "next"},
                         {"options", "reject", "optional", "suggest_today", "existing_start", "typed"})
    kind = data["kind"]
    if kind not in ("yes_no", "choice", "date"):
        raise check.fail(f"kind {kind!r} is not yes_no, choice or date")
    options: tuple[str, ...] = ("yes", "no") if kind == "yes_no" else ()
    if kind == "choice":
        raw_options = data.get("options")
        if not isinstance(raw_options, list) or not raw_options:
            raise check.fail("a choice needs a list of options")
        options = tuple(check.text(option, "option") for option in raw_options)
    elif "options" in data:
        raise check.fail(f"a {kind} question takes no options")
    flags = {name: data.get(name, False) for name in ("optional", "suggest_today", "existing_start")}
    for name, flag in flags.items():
        if not isinstance(flag, bool) or (flag and kind != "date"):
            raise check.fail(f"{name} must be true or false, and only a date question can have it")
    branches = _branches(check, qid, data["next"], options, all_questions, known)
    guards = tuple(_guard(check, raw_guard, all_questions) for raw_guard in data.get("reject") or ())
    return Question(id=qid, kind=kind, options=options, branches=branches, guards=guards,
                    source=check.source(data["source"]), typed=_typed(check, data.get("typed"), options), **flags)


def _typed(check: Checker, raw: Any, options: tuple[str, ...]) -> tuple[TypedRule, ...]:
    """`typed:` rules, each {answer, starts and/or contains, without?}; only on a choice, naming its answers."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not options or "yes" in options:
        raise check.fail("typed is a list of rules, and only a choice question has it")
    rules = []
    for item in raw:
        data = check.mapping(item, "typed rule", {"answer"}, {"starts", "contains", "without"})
        if data["answer"] not in options or not (data.get("starts") or data.get("contains")):
            raise check.fail(f"typed rule {item!r} must name one of {list(options)} and what it starts with or "
                             "contains")
        rules.append(TypedRule(**{key: str(value).lower() for key, value in data.items()}))
    return tuple(rules)


def _branches(check: Checker, qid: str, raw: Any, options: tuple[str, ...],
              all_questions: dict[str, Any], known: set[str]) -> tuple[Branch, ...]:
    if isinstance(raw, str):
        branches: tuple[Branch, ...] = (Branch((), raw),)
    elif isinstance(raw, dict):
        if not options or set(raw) != set(options):
            raise check.fail(f"next by answer must name exactly the answers {list(options)}, not {list(raw)}")
        branches = tuple(Branch((Condition(qid, "equals", value),), target) for value, target in raw.items())
    elif isinstance(raw, list) and raw:
        branches = tuple(_branch(check, item, all_questions) for item in raw)
        if branches[-1].conditions:
            raise check.fail("the last branch of next must have no 'when', so the flow always goes on")
    else:
        raise check.fail("next must be a node id, a mapping by answer, or a list of branches")
    for branch in branches:
        if branch.target not in known:
            raise check.fail(f"next goes to {branch.target!r}, which is not a node of this flow")
    return branches


def _branch(check: Checker, raw: Any, all_questions: dict[str, Any]) -> Branch:
    data = check.mapping(raw, "branch", {"goto"}, {"when"})
    conditions = _conditions(check, data.get("when", {}), all_questions)
    return Branch(conditions, check.text(data["goto"], "goto"))


def _guard(check: Checker, raw: Any, all_questions: dict[str, Any]) -> Guard:
    data = check.mapping(raw, "reject rule", {"when", "message"}, set())
    conditions = _conditions(check, data["when"], all_questions)
    if not conditions:
        raise check.fail("a reject rule needs at least one condition")
    return Guard(conditions, check.text(data["message"], "message"))


def _conditions(check: Checker, raw: Any, all_questions: dict[str, Any]) -> tuple[Condition, ...]:
    if not isinstance(raw, dict):
        raise check.fail("when must be a mapping of question id to value")
    conditions = []
    for qid, expected in raw.items():
        if qid not in all_questions:
            raise check.fail(f"when tests {qid!r}, which is not a question of this flow")
        question = all_questions[qid] or {}
        if isinstance(expected, str):
            allowed = ("yes", "no") if question.get("kind") == "yes_no" else tuple(question.get("options") or ())
            if expected not in allowed:
                raise check.fail(f"when tests {qid} = {expected!r}, which is not one of its answers {list(allowed)}")
            conditions.append(Condition(qid, "equals", expected))
            continue
        if not isinstance(expected, dict) or len(expected) != 1:
            raise check.fail(f"when {qid}: expected an answer value or one comparison like {{before: other_date}}")
        ((op, other),) = expected.items()
        if op == "closed_after_months":
            if question.get("kind") != "date" or not isinstance(other, int) or isinstance(other, bool) or other < 1:
                raise check.fail(f"when {qid}: closed_after_months takes a date question and a positive whole number")
            conditions.append(Condition(qid, op, str(other)))
            continue
        if op not in COMPARISON_OPS or (other not in all_questions and other != TODAY):
            raise check.fail(f"when {qid}: {op!r} {other!r} is not a comparison with a question of this flow "
                             f"or with {TODAY}")
        _check_comparable(check, qid, op, question, {"kind": "date"} if other == TODAY else all_questions[other] or {})
        conditions.append(Condition(qid, op, other))
    return tuple(conditions)


def _check_comparable(check: Checker, qid: str, op: str, question: dict[str, Any], other: dict[str, Any]) -> None:
    if op == "same_as":
        kinds = [(side.get("kind"), tuple(side.get("options") or ())) for side in (question, other)]
        if kinds[0] != kinds[1]:
            raise check.fail(f"when {qid}: same_as compares two questions of the same kind and answers")
    elif question.get("kind") != "date" or other.get("kind") != "date":
        raise check.fail(f"when {qid}: {op} compares dates, and both questions must be dates")


def outcome_node(check: Checker, oid: str, raw: Any, questions: dict[str, Question]) -> OutcomeNode:
    check.node = oid
    data = check.mapping(raw, "outcome", {"result", "effect", "source"},
                         {"actions", "use_flow", "carry", "gap", "deadline", "warnings"})
    result, effect = data["result"], data["effect"]
    if result not in RESULTS:
        raise check.fail(f"result {result!r} is not one of {list(RESULTS)}")
    if effect is not None and effect not in EFFECTS:
        raise check.fail(f"effect {effect!r} is not null or one of {list(EFFECTS)}")
    if (result == "use_flow") != ("use_flow" in data):
        raise check.fail("use_flow goes with result use_flow, and only there")
    if (result == "ask_star") != ("gap" in data):
        raise check.fail("an ask_star outcome names the gap in the guide (gap:), and only it does")
    actions = tuple(_action(check, item, questions) for item in data.get("actions") or ())
    if (result == "register") != bool(actions):
        raise check.fail("a register outcome has actions, and only it does")
    carry, fixed = _carry(check, data.get("carry") or {}, questions)
    deadline_from, months = None, 0
    if "deadline" in data:
        deadline = check.mapping(data["deadline"], "deadline", {"months_after", "months"}, set())
        deadline_from = _date_question(check, deadline["months_after"], questions)
        months = deadline["months"]
        if not isinstance(months, int) or isinstance(months, bool) or months < 1:
            raise check.fail("deadline months must be a positive whole number")
    return OutcomeNode(
        id=oid, result=result, effect=effect, actions=actions, source=check.source(data["source"]),
        use_flow=data.get("use_flow"), carry=carry, carry_fixed=fixed, gap=data.get("gap"),
        deadline_from=deadline_from, deadline_months=months, warnings=_warnings(check, data, questions))


def _warnings(check: Checker, data: dict[str, Any], questions: dict[str, Question]) -> tuple[WarningRule, ...]:
    """`warnings:` is a list of codes, each bare (always) or `{code: {question: value-or-comparison, ...}}`."""
    raw = data.get("warnings") or []
    if not isinstance(raw, list):
        raise check.fail("warnings must be a list")
    plain = {qid: {"kind": q.kind, "options": list(q.options)} for qid, q in questions.items()}
    rules = []
    for item in raw:
        if isinstance(item, dict) and len(item) == 1:
            ((code, when),) = item.items()
            rule = WarningRule(str(code), _conditions(check, when, plain))
        else:
            code = item
            rule = WarningRule(str(code))
        if code not in WARNINGS:
            raise check.fail(f"warning {code!r} is not one of {list(WARNINGS)}")
        rules.append(rule)
    return tuple(rules)


def _action(check: Checker, raw: Any, questions: dict[str, Question]) -> ActionRule:
    data = check.mapping(raw, "action", {"do", "marker", "date"}, {"marker_start", "other_person"})
    if data["do"] not in ("create", "end"):
        raise check.fail(f"action do {data['do']!r} is not create or end")
    date_spec = check.mapping(data["date"], "action date", set(), set(DATE_RULES))
    if len(date_spec) != 1:
        raise check.fail(f"action date names one rule of {list(DATE_RULES)}")
    ((rule, source),) = date_spec.items()
    marker_start = data.get("marker_start")
    if marker_start is not None:
        _date_question(check, marker_start, questions)
    other_person = data.get("other_person")
    if other_person is not None and (other_person not in questions or questions[other_person].kind != "yes_no"):
        raise check.fail("other_person names a yes/no question of this flow")
    return ActionRule(do=data["do"], marker=_marker(check, data["marker"], questions), date_rule=rule,
                      date_from=_date_question(check, source, questions), marker_start=marker_start,
                      other_person_from=other_person)


def _marker(check: Checker, raw: Any, questions: dict[str, Question]) -> MarkerRule:
    markers = check.programme.markers if check.programme else {}
    if isinstance(raw, str):
        if raw not in markers:
            raise check.fail(f"marker {raw!r} is not one of the programme's {list(markers)}")
        return MarkerRule(key=raw)
    data = check.mapping(raw, "marker", set(), {"answer", "map", "other_than"})
    if set(data) not in ({"answer"}, {"answer", "map"}, {"other_than"}):
        raise check.fail("marker is a key, {answer: q}, {answer: q, map: {...}} or {other_than: q}")
    question = questions.get(data.get("answer") or data.get("other_than") or "")
    if question is None:
        raise check.fail(f"marker refers to {raw!r}, which is not a question of this flow")
    mapping = data.get("map") or {value: value for value in question.options}
    if set(mapping) != set(question.options) or not set(mapping.values()) <= set(markers):
        raise check.fail(f"marker from {question.id}: every answer must map to a marker of {list(markers)}")
    if "other_than" in data:
        if len(markers) != 2:
            raise check.fail("other_than needs a programme with exactly two markers")
        return MarkerRule(other_than=question.id)
    return MarkerRule(answer=question.id, mapping=tuple(mapping.items()))


def _date_question(check: Checker, qid: Any, questions: dict[str, Question]) -> str:
    if qid not in questions or questions[qid].kind != "date":
        raise check.fail(f"{qid!r} is not a date question of this flow")
    return str(qid)


def _carry(check: Checker, carry: Any, questions: dict[str, Question]
           ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str, str], ...]]:
    """A hand-over's carries: the next flow's question ids mapped to a question of this flow (its answer), to
    {value: answer} (what the hand-over itself settles) or to {other_than: question} (the other of two options)."""
    if not isinstance(carry, dict):
        raise check.fail("carry maps the next flow's question ids to questions of this flow")
    sources: list[tuple[str, str]] = []
    fixed: list[tuple[str, str, str]] = []
    for target, source in carry.items():
        if isinstance(source, str) and source in questions:
            sources.append((target, source))
        elif isinstance(source, dict) and len(source) == 1 and "value" in source:
            if not isinstance(source["value"], str):
                raise check.fail(f"carry gives {target!r} a value that is not text (quote yes/no: \"yes\")")
            fixed.append((target, "value", source["value"]))
        elif isinstance(source, dict) and len(source) == 1 and "other_than" in source:
            question = questions.get(str(source["other_than"]))
            if question is None or question.kind != "choice" or len(question.options) != 2:
                raise check.fail(f"carry gives {target!r} the other option of {source['other_than']!r}, "
                                 "which is not a two-option choice question of this flow")
            fixed.append((target, "other_than", question.id))
        else:
            raise check.fail("carry maps the next flow's question ids to questions of this flow, "
                             "{value: answer} or {other_than: question}")
    return tuple(sources), tuple(fixed)
