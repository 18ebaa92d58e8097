"""The flow pictures: generated from the flows through transitions' GraphMachine and Graphviz; a stale one fails.

Deterministic on any machine: the test compares the DOT source (what goes into the render) with the hash recorded
when the committed SVG/PNG were drawn, and the files with their recorded hashes; it never compares renders."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.chat.texts import Texts
from bot.learn.diagrams import (
    DIAGRAMS_DIR, FORMATS, Labels, dot_source, draw_path, fingerprint, manifest_path, render,
)
from flows.engine import Rulebook


@pytest.fixture(scope="module")
def labels(rulebook: Rulebook, texts: Texts) -> Labels:
    return Labels(texts, rulebook)


def test_every_flow_has_its_pictures(rulebook: Rulebook) -> None:
    manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
    assert set(manifest) == set(rulebook.flows)
    for flow_id in rulebook.flows:
        for fmt in FORMATS:
            data = (DIAGRAMS_DIR / f"{flow_id}.{fmt}").read_bytes()
            assert fingerprint(data) == manifest[flow_id][fmt], f"docs/diagrams/{flow_id}.{fmt} was changed by hand"


def test_committed_pictures_are_drawn_from_todays_flows(rulebook: Rulebook, labels: Labels) -> None:
    manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
    stale = [flow_id for flow_id in rulebook.flows
             if fingerprint(dot_source(rulebook.flow(flow_id), labels).encode()) != manifest[flow_id]["dot"]]
    assert stale == [], f"stale pictures of {stale}: run make diagrams"


def test_pictures_speak_danish(rulebook: Rulebook, labels: Labels) -> None:
    source = dot_source(rulebook.flow("switch"), labels)
    assert "Hvilken markør har den unge nu?" in source
    assert "doubleoctagon" in source and "samme dato" in source
    assert "current_marker=" not in source


def test_a_path_is_drawn_highlighted(rulebook: Rulebook, labels: Labels) -> None:
    path = ("current_marker", "psychiatry_course", "current_start_date", "new_start_date", "switched")
    source = dot_source(rulebook.flow("switch"), labels, path)
    assert source.count("color=blue") >= len(path) - 1  # the nodes and arrows walked
    assert "darksalmon" in source  # where the case ended
    plain = dot_source(rulebook.flow("switch"), labels)
    assert "color=blue" not in plain and "darksalmon" not in plain
    drawn = draw_path(rulebook.flow("switch"), labels, path, "svg")
    assert drawn is not None and "<svg" in drawn.read_text(encoding="utf-8")
    assert render(plain, "png").startswith(b"\x89PNG")


def test_the_path_of_a_logged_decision_is_drawn(tmp_path: Any, capsys: Any) -> None:
    from bot.cli.main import main

    assert main(["decide", "switch", "--answer", "current_marker=fusm", "--answer", "psychiatry_course=ja",
                 "--answer", "current_start_date=12.10.2025", "--answer", "new_start_date=1.2.2026"]) == 0
    capsys.readouterr()
    assert main(["learn", "path", "1", "--output", str(tmp_path)]) == 0
    drawn = tmp_path / "afgoerelse-1-switch.svg"
    assert str(drawn) in capsys.readouterr().out
    assert "darksalmon" in drawn.read_text(encoding="utf-8")  # the outcome reached, highlighted
    assert main(["learn", "path", "99", "--output", str(tmp_path)]) == 2
