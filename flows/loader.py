"""Read a programme's YAML flow files into typed nodes, rejecting anything that is not exactly what we expect."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flows.errors import FlowError
from flows.model import (
    CONDITION_OPS, DATE_RULES, EFFECTS, RESULTS, ActionRule, Branch, Condition, Guard, MarkerRule,
    OutcomeNode, Question,
)

FLOWS_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = FLOWS_DIR.parent / "templates"
_SOURCE = re.compile(r"(000|002): (.+?)(?: › (.+))?")
_BARE_BOOL = "tag:ungebot:bare-boolean"


# The C parser (when PyYAML has it) reads our flow files about five times faster; tags are still resolved in Python.
_BASE: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _StrictLoader(_BASE):  # type: ignore[misc]
    """A SafeLoader that refuses YAML 1.1's bare yes/no/on/off instead of turning them into booleans."""


def _refuse_bare_boolean(loader: Any, node: yaml.ScalarNode) -> Any:
    raise yaml.constructor.ConstructorError(
        None, None, f"bare '{node.value}' is read by YAML as a boolean: quote it (\"{node.value}\")", node.start_mark)


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|false)$"), list("tf"))
_StrictLoader.add_implicit_resolver(
    _BARE_BOOL, re.compile(r"^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|y|Y|n|N)$"), list("yYnNoO"))
_StrictLoader.add_constructor(_BARE_BOOL, _refuse_bare_boolean)


@dataclass(frozen=True)
class Programme:
    """A programme's shared facts: its edition, marker names and the guide sections flows may cite."""

    id: str
    title: str
    edition: str
    guide: str
    entry: str
    markers: dict[str, str]
    sections: tuple[str, ...]
    directory: Path


@dataclass(frozen=True)
class FlowSpec:
    """One flow file, read and checked, before a state machine is built from it."""

    id: str
    title: str
    edition: str
    source: str
    start: str
    questions: dict[str, Question]
    outcomes: dict[str, OutcomeNode]
    path: Path


def read_yaml(path: Path) -> Any:
    """Parse a YAML file strictly; a parse problem becomes a FlowError naming the file and line."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise FlowError(f"{path}: {exc}") from None


class _Checker:
    """Collects the context (file, node) that every error message must name."""

    def __init__(self, path: Path, programme: Programme | None = None) -> None:
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


def load_programme(directory: Path) -> Programme:
    """Read programme.yaml: edition, entry flow, marker names and citable sections."""
    path = directory / "programme.yaml"
    check = _Checker(path)
    data = check.mapping(read_yaml(path), "programme file",
                         {"programme", "title", "edition", "guide", "entry", "markers", "sections"}, set())
    markers = check.mapping(data["markers"], "markers", set(), set(data["markers"] or {}))
    sections = data["sections"]
    if not isinstance(sections, list) or not all(isinstance(s, str) for s in sections):
        raise check.fail("sections must be a list of strings")
    return Programme(
        id=check.text(data["programme"], "programme"), title=check.text(data["title"], "title"),
        edition=check.text(data["edition"], "edition"), guide=check.text(data["guide"], "guide"),
        entry=check.text(data["entry"], "entry"),
        markers={check.text(k, "marker key"): check.text(v, "marker name") for k, v in markers.items()},
        sections=tuple(sections), directory=directory)


def load_flow_spec(path: Path, programme: Programme, templates: Path = TEMPLATES_DIR) -> FlowSpec:
    """Read one flow file and check every node; templates must exist for every node."""
    check = _Checker(path, programme)
    data = check.mapping(read_yaml(path), "flow file",
                         {"flow", "title", "edition", "source", "start", "outcomes"}, {"questions"})
    flow_id = check.text(data["flow"], "flow")
    if flow_id != path.stem:
        raise check.fail(f"flow id {flow_id!r} differs from the file name {path.stem!r}")
    if data["edition"] != programme.edition:
        raise check.fail(f"edition {data['edition']!r} is not the programme's {programme.edition!r}")
    raw_questions = data.get("questions") or {}
    raw_outcomes = data["outcomes"] or {}
    for kind, raw in (("questions", raw_questions), ("outcomes", raw_outcomes)):
        if not isinstance(raw, dict):
            raise check.fail(f"{kind} must be a mapping")
    clash = set(raw_questions) & set(raw_outcomes)
    if clash:
        raise check.fail(f"ids used for both a question and an outcome: {', '.join(sorted(clash))}")
    known = set(raw_questions) | set(raw_outcomes)
    questions = {qid: _question(check, qid, raw, raw_questions, known) for qid, raw in raw_questions.items()}
    outcomes = {oid: _outcome(check, oid, raw, questions) for oid, raw in raw_outcomes.items()}
    check.node = ""
    spec = FlowSpec(id=flow_id, title=check.text(data["title"], "title"), edition=data["edition"],
                    source=check.source(data["source"]), start=check.text(data["start"], "start"),
                    questions=questions, outcomes=outcomes, path=path)
    if spec.start not in known:
        raise check.fail(f"start {spec.start!r} is not a node of this flow")
    _check_reachable(check, spec)
    _check_templates(check, spec, programme, templates)
    return spec


def _question(check: _Checker, qid: str, raw: Any, all_questions: dict[str, Any], known: set[str]) -> Question:
    check.node = qid
    data = check.mapping(raw, "question", {"kind", "source", "next"},
                         {"options", "reject", "optional", "suggest_today"})
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
    optional, suggest_today = data.get("optional", False), data.get("suggest_today", False)
    for name, flag in (("optional", optional), ("suggest_today", suggest_today)):
        if not isinstance(flag, bool) or (flag and kind != "date"):
            raise check.fail(f"{name} must be true or false, and only a date question can have it")
    branches = _branches(check, qid, data["next"], options, all_questions, known)
    guards = tuple(_guard(check, raw_guard, all_questions) for raw_guard in data.get("reject") or ())
    if guards and kind != "date":
        raise check.fail("only date questions can reject answers")
    return Question(id=qid, kind=kind, options=options, branches=branches, guards=guards,
                    source=check.source(data["source"]), optional=optional, suggest_today=suggest_today)


def _branches(check: _Checker, qid: str, raw: Any, options: tuple[str, ...],
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


def _branch(check: _Checker, raw: Any, all_questions: dict[str, Any]) -> Branch:
    data = check.mapping(raw, "branch", {"goto"}, {"when"})
    conditions = _conditions(check, data.get("when", {}), all_questions)
    return Branch(conditions, check.text(data["goto"], "goto"))


def _guard(check: _Checker, raw: Any, all_questions: dict[str, Any]) -> Guard:
    data = check.mapping(raw, "reject rule", {"when", "message"}, set())
    conditions = _conditions(check, data["when"], all_questions)
    if len(conditions) != 1:
        raise check.fail("a reject rule takes exactly one condition")
    return Guard(conditions[0], check.text(data["message"], "message"))


def _conditions(check: _Checker, raw: Any, all_questions: dict[str, Any]) -> tuple[Condition, ...]:
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
        if op not in CONDITION_OPS[1:] or other not in all_questions:
            raise check.fail(f"when {qid}: {op!r} {other!r} is not a date comparison with a question of this flow")
        if question.get("kind") != "date" or (all_questions[other] or {}).get("kind") != "date":
            raise check.fail(f"when {qid}: {op} compares dates, and both questions must be dates")
        conditions.append(Condition(qid, op, other))
    return tuple(conditions)


def _outcome(check: _Checker, oid: str, raw: Any, questions: dict[str, Question]) -> OutcomeNode:
    check.node = oid
    data = check.mapping(raw, "outcome", {"result", "effect", "source"},
                         {"actions", "use_flow", "carry", "gap", "deadline"})
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
    carry = data.get("carry") or {}
    if not isinstance(carry, dict) or not all(source in questions for source in carry.values()):
        raise check.fail("carry maps the next flow's question ids to questions of this flow")
    deadline_from, months = None, 0
    if "deadline" in data:
        deadline = check.mapping(data["deadline"], "deadline", {"months_after", "months"}, set())
        deadline_from = _date_question(check, deadline["months_after"], questions)
        months = deadline["months"]
        if not isinstance(months, int) or isinstance(months, bool) or months < 1:
            raise check.fail("deadline months must be a positive whole number")
    return OutcomeNode(
        id=oid, result=result, effect=effect, actions=actions, source=check.source(data["source"]),
        use_flow=data.get("use_flow"), carry=tuple(carry.items()), gap=data.get("gap"),
        deadline_from=deadline_from, deadline_months=months)


def _action(check: _Checker, raw: Any, questions: dict[str, Question]) -> ActionRule:
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


def _marker(check: _Checker, raw: Any, questions: dict[str, Question]) -> MarkerRule:
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


def _date_question(check: _Checker, qid: Any, questions: dict[str, Question]) -> str:
    if qid not in questions or questions[qid].kind != "date":
        raise check.fail(f"{qid!r} is not a date question of this flow")
    return str(qid)


def _check_reachable(check: _Checker, spec: FlowSpec) -> None:
    seen, todo = set(), [spec.start]
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        if node in spec.questions:
            todo.extend(branch.target for branch in spec.questions[node].branches)
    unreachable = (set(spec.questions) | set(spec.outcomes)) - seen
    if unreachable:
        check.node = sorted(unreachable)[0]
        raise check.fail(f"cannot be reached from start {spec.start!r}")


def _check_templates(check: _Checker, spec: FlowSpec, programme: Programme, templates: Path) -> None:
    folder = templates / programme.id / spec.id
    for node in list(spec.questions) + list(spec.outcomes):
        if not (folder / f"{node}.j2").is_file():
            check.node = node
            raise check.fail(f"template {folder / (node + '.j2')} is missing")
    for outcome in spec.outcomes.values():
        if outcome.gap and not (templates / programme.id / "gaps" / f"{outcome.gap}.j2").is_file():
            check.node = outcome.id
            raise check.fail(f"gap {outcome.gap!r} has no template in {templates / programme.id / 'gaps'}")
