"""The committed diagrams are generated from the flows; a stale one fails (regenerate with `make diagrams`)."""

from __future__ import annotations

import pytest

from bot.cli.diagram import mermaid
from flows.catalogue import Catalogue
from flows.engine import Rulebook

from tests.conftest import ROOT

DIAGRAMS = ROOT / "docs" / "diagrams"


def test_every_flow_has_a_diagram_and_no_other(catalogue: Catalogue) -> None:
    assert {path.stem for path in DIAGRAMS.glob("*.mmd")} == set(catalogue.flows)


@pytest.mark.parametrize("flow_id", sorted(p.stem for p in DIAGRAMS.glob("*.mmd")))
def test_committed_diagram_is_current(catalogue: Catalogue, flow_id: str) -> None:
    committed = (DIAGRAMS / f"{flow_id}.mmd").read_text(encoding="utf-8")
    assert committed == mermaid(catalogue.flow(flow_id)), f"docs/diagrams/{flow_id}.mmd is stale: run make diagrams"


def test_diagram_shows_every_node_and_branch(rulebook: Rulebook) -> None:
    flow = rulebook.flow("switch")
    text = mermaid(flow)
    for node in flow.nodes:
        assert f" as {node}" in text
    assert "new_start_date --> wrong_from_start: new_start_date same_as current_start_date" in text
    assert 'state "switched (register)" as switched' in text
