"""Mermaid diagrams of the flows, drawn by transitions' own graph support from each flow's transition table."""

from __future__ import annotations

from typing import Any

from flows.conditions import describe
from flows.engine import Flow, transition_table


def _label(entry: dict[str, Any], has_siblings: bool) -> str:
    conditions = entry.get("conditions") or []
    if conditions:
        return " and ".join(condition.__name__ for condition in conditions)
    return "ellers" if has_siblings else "svar"


def mermaid(flow: Flow) -> str:
    """The flow's state machine as a Mermaid state diagram: arrows labelled by the answer that takes them,
    outcomes labelled by their result and marked as ends."""
    from transitions.extensions.diagrams import GraphMachine

    entries = transition_table(flow.spec)
    sources = [entry["source"] for entry in entries]
    table = [{"trigger": _label(entry, sources.count(entry["source"]) > 1), "source": entry["source"],
              "dest": entry["dest"]} for entry in entries]
    # A reject rule asks the same question again: drawn as a loop, labelled by when it applies.
    table += [{"trigger": "asked again if " + " and ".join(describe(c) for c in guard.conditions),
               "source": question.id, "dest": question.id}
              for question in flow.spec.questions.values() for guard in question.guards]
    machine = GraphMachine(model=None, states=flow.nodes, transitions=table, initial=flow.spec.start,
                           auto_transitions=False, graph_engine="mermaid", title=f"{flow.id}: {flow.title}")
    model: Any = type("DiagramModel", (), {})()
    machine.add_model(model)
    text: str = model.get_graph().draw(None)
    lines = []
    for line in text.splitlines():
        if line.strip().startswith(("classDef ", "Class ")):
            continue  # styling of the machine's current state: a static diagram has none
        for node in flow.spec.outcomes.values():
            if line.strip() == f'state "{node.id}" as {node.id}':
                line = line.replace(f'"{node.id}"', f'"{node.id} ({node.result})"')
        lines.append(line.rstrip())
    lines += [f"  {node} --> [*]" for node in flow.spec.outcomes]
    return "\n".join(lines).rstrip() + "\n"
