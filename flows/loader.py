"""Read a programme's YAML flow files into typed nodes, rejecting anything that is not exactly what we expect."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flows.errors import FlowError
from flows.model import OutcomeNode, Question
from flows.nodes import Checker, outcome_node, question_node

FLOWS_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = FLOWS_DIR.parent / "templates"
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


def load_programme(directory: Path, facts: str = "programme.yaml") -> Programme:
    """Read programme.yaml (or the named facts file): edition, entry flow, marker names and citable sections."""
    path = directory / facts
    check = Checker(path)
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
    check = Checker(path, programme)
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
    questions = {qid: question_node(check, qid, raw, raw_questions, known) for qid, raw in raw_questions.items()}
    outcomes = {oid: outcome_node(check, oid, raw, questions) for oid, raw in raw_outcomes.items()}
    check.node = ""
    spec = FlowSpec(id=flow_id, title=check.text(data["title"], "title"), edition=data["edition"],
                    source=check.source(data["source"]), start=check.text(data["start"], "start"),
                    questions=questions, outcomes=outcomes, path=path)
    if spec.start not in known:
        raise check.fail(f"start {spec.start!r} is not a node of this flow")
    _check_reachable(check, spec)
    _check_templates(check, spec, programme, templates)
    return spec


def _check_reachable(check: Checker, spec: FlowSpec) -> None:
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


def _check_templates(check: Checker, spec: FlowSpec, programme: Programme, templates: Path) -> None:
    folder = templates / programme.id / spec.id
    for node in list(spec.questions) + list(spec.outcomes):
        if not (folder / f"{node}.j2").is_file():
            check.node = node
            raise check.fail(f"template {folder / (node + '.j2')} is missing")
    for outcome in spec.outcomes.values():
        if outcome.gap and not (templates / programme.id / "gaps" / f"{outcome.gap}.j2").is_file():
            check.node = outcome.id
            raise check.fail(f"gap {outcome.gap!r} has no template in {templates / programme.id / 'gaps'}")
