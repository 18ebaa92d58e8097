"""Mermaid diagrams of the flows, drawn by transitions' own graph support from each flow's transition table."""

from __future__ import annotations

from flows.engine import Flow, transition_table


def _label(entry: dict[str, object]) -> str:
    conditions = entry.get("conditions") or []
    return " and ".join(getattr(c, "__name__", "?") for c in conditions) or "svar"  # type: ignore[attr-defined]


def mermaid(flow: Flow) -> str:
    """The flow's state machine as a Mermaid state diagram; the answer that takes each arrow is its label."""
    from transitions.extensions.diagrams import GraphMachine

    table = []
    for entry in transition_table(flow.spec):
        label = _label(entry)
        table.append({"trigger": label, "source": entry["source"], "dest": entry["dest"]})
    machine = GraphMachine(model=None, states=flow.nodes, transitions=table, initial=flow.spec.start,
                           auto_transitions=False, graph_engine="mermaid", title=f"{flow.id}: {flow.title}")
    machine.add_model(model := type("DiagramModel", (), {})())
    graph = model.get_graph()  # type: ignore[attr-defined]
    text: str = graph.draw(None)
    # Drop the highlight of the machine's current state: a static diagram has none.
    lines = [line for line in text.splitlines() if "s_active" not in line or "classDef" in line]
    return "\n".join(line.rstrip() for line in lines).rstrip() + "\n"
