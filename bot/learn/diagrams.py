"""Flow diagrams as pictures: transitions' GraphMachine with the Graphviz engine writes the DOT source, Graphviz's
`dot` renders it (SVG, PNG). A path a case or a dialogue took is drawn highlighted on the same diagram."""

from __future__ import annotations

import hashlib
import textwrap
import shutil
import subprocess
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from flows.engine import Flow
from flows.loader import FLOWS_DIR
from flows.model import Condition

DIAGRAMS_DIR = FLOWS_DIR.parent / "docs" / "diagrams"
FORMATS = ("svg", "png")
RENDER_TIMEOUT = 30  # seconds for one `dot` run


_DATE_OPS = {"same_as": "samme dato", "before": "en tidligere dato", "not_after": "samme eller tidligere dato",
             "after": "en senere dato", "closed_after_months": "fristen er udløbet"}


class Labels:
    """Danish labels for a diagram: each question as asked, each outcome's headline, each arrow by its answers.

    Texts that name earlier answers are rendered with a sample case that reaches the node (seed 0)."""

    def __init__(self, texts: Any, rulebook: Any) -> None:
        self.texts = texts
        self.rulebook = rulebook

    def node(self, flow: Flow, node: str) -> str:
        from bot.chat.texts import to_plain
        from bot.learn.cases import generate

        if node in flow.spec.questions:
            answers = {q.id: (q.options[0] if q.options else "2026-01-01") for q in flow.spec.questions.values()}
            text = self.texts.question(flow, flow.spec.questions[node], answers)
        else:
            answers, today = _answers_to(flow, node), date(2026, 1, 15)
            if flow.id != self.rulebook.programme.entry:
                case = generate(self.rulebook, 0, flow.id, node)
                answers, today = dict(case.segments[0].answers), case.today
            outcome = flow.walk(answers, today).outcome
            assert outcome is not None and outcome.node == node
            text = self.texts.headline(flow, outcome, answers)
        return _wrap(to_plain(text).split("\n")[0])

    def arrow(self, flow: Flow, conditions: tuple[Condition, ...], has_siblings: bool) -> str:
        if not conditions:
            return "ellers" if has_siblings else "svar"
        parts = []
        for condition in conditions:
            if condition.op == "equals":
                question = flow.spec.questions[condition.question]
                parts.append(self.texts.option_labels(flow, question).get(condition.value, condition.value))
            else:
                parts.append(_DATE_OPS.get(condition.op, condition.op.replace("_", " ")))
        return _wrap(" + ".join(parts), 28)


def _answers_to(flow: Flow, node: str) -> dict[str, str]:
    """Answers that reach an outcome of a flow without dates (the router): the option whose arrow leads there."""
    for question in flow.spec.questions.values():
        for branch in question.branches:
            if branch.target == node:
                return {c.question: c.value for c in branch.conditions if c.op == "equals"}
    return {}


def _wrap(text: str, width: int = 34) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _table(flow: Flow, labels: Labels) -> list[dict[str, str]]:
    """The flow's arrows in transitions' form, each named by the Danish answer that takes it."""
    table = []
    for question in flow.spec.questions.values():
        many = len(question.branches) > 1
        for branch in question.branches:
            table.append({"trigger": labels.arrow(flow, branch.conditions, many), "source": question.id,
                          "dest": branch.target})
    return table


def dot_source(flow: Flow, labels: Labels, path: tuple[str, ...] = ()) -> str:
    """The flow as Graphviz DOT with Danish labels, outcomes drawn as ends; the nodes of `path` and the arrows
    between them highlighted (the last one as where the case ended)."""
    from transitions.extensions.diagrams import GraphMachine

    machine = GraphMachine(model=None, states=flow.nodes, transitions=_table(flow, labels), initial=flow.spec.start,
                           auto_transitions=False, graph_engine="graphviz", title=flow.title, show_conditions=False)
    model: Any = type("DiagramModel", (), {})()
    machine.add_model(model)
    graph = machine.model_graphs[id(model)]
    graph.reset_styling()  # no "current state": a static diagram, or only the path asked for
    for source, dest in zip(path, path[1:]):
        graph.set_previous_transition(source, dest)
    if path:
        graph.set_node_style(path[-1], "active")
    drawing = graph.get_graph()
    for node in flow.nodes:
        shape = {"shape": "doubleoctagon"} if node in flow.spec.outcomes else {}
        drawing.node(node, label=labels.node(flow, node), **shape)
    return str(drawing.source)


def dot_available() -> bool:
    """True when Graphviz's `dot` is installed (`make diagrams` installs it with apt-get)."""
    return shutil.which("dot") is not None


def render(source: str, fmt: str) -> bytes:
    """Render DOT with Graphviz's `dot` (RuntimeError if it is missing or fails)."""
    if not dot_available():
        raise RuntimeError("Graphviz' dot er ikke installeret (make diagrams installerer det)")
    done = subprocess.run(["dot", f"-T{fmt}"], input=source.encode(), capture_output=True, timeout=RENDER_TIMEOUT,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"dot -T{fmt} failed: {done.stderr.decode(errors='replace')[:200]}")
    return done.stdout


def diagram_file(flow_id: str, fmt: str) -> Path:
    """The committed picture of a flow."""
    return DIAGRAMS_DIR / f"{flow_id}.{fmt}"


def draw_path(flow: Flow, labels: Labels, nodes: tuple[str, ...], fmt: str = "png") -> Path | None:
    """The flow with a path highlighted, rendered to a cached file; None when Graphviz is not installed."""
    if not dot_available():
        return None
    source = dot_source(flow, labels, nodes)
    target = Path(tempfile.gettempdir()) / "ungebot-diagrams" / f"{hashlib.sha256(source.encode()).hexdigest()[:16]}.{fmt}"
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{fmt}.part")
        partial.write_bytes(render(source, fmt))
        partial.replace(target)
    return target


def manifest_path() -> Path:
    """Where the hashes of the committed pictures and of the DOT they were drawn from are kept."""
    return DIAGRAMS_DIR / "pictures.json"


def fingerprint(data: bytes) -> str:
    """A file's SHA-256, as the manifest holds it."""
    return hashlib.sha256(data).hexdigest()


def write_pictures(rulebook: Any, labels: Labels, directory: Path = DIAGRAMS_DIR) -> list[Path]:
    """Render every flow to SVG and PNG and record what they were drawn from (the freshness test reads it)."""
    import json

    manifest: dict[str, dict[str, str]] = {}
    written = []
    for flow_id in sorted(rulebook.flows):
        source = dot_source(rulebook.flow(flow_id), labels)
        manifest[flow_id] = {"dot": fingerprint(source.encode())}
        for fmt in FORMATS:
            data = render(source, fmt)
            target = directory / f"{flow_id}.{fmt}"
            target.write_bytes(data)
            manifest[flow_id][fmt] = fingerprint(data)
            written.append(target)
    (directory / "pictures.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return written
