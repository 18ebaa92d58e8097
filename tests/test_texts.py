"""bot/chat/texts.py: a flow template's block is rendered once per values of the answers it reads, and every time
when what it reads is not known exactly (the question text is on the hot path of every answer)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from flows.engine import Rulebook

import bot.chat.texts as texts_module
from bot.chat.texts import Texts


def test_a_question_that_names_an_answer_is_kept_by_that_answer(rulebook: Rulebook) -> None:
    texts = Texts(rulebook)  # its own cache, not the session's
    flow = rulebook.flow("switch")
    question = flow.spec.questions["current_start_date"]
    name = "ungeloeftet/switch/current_start_date.j2"
    ips, fum = (texts.question(flow, question, {"current_marker": marker}) for marker in ("ips", "fusm"))
    assert "IPS" in ips and "Flere unge skal med" in fum
    assert texts.reads(name, "question") == ("current_marker",)
    assert texts._rendered[(name, "question", "ips")] == ips and texts._rendered[(name, "question", "fusm")] == fum
    texts._rendered[(name, "question", "ips")] = "kept"
    assert texts.question(flow, question, {"current_marker": "ips", "other": "x"}) == "kept"  # other answers: kept
    assert texts.question(flow, question, MappingProxyType({"current_marker": "ips"})) == ips  # not a dict: rendered


def test_a_block_that_reads_a_typed_date_is_never_kept(rulebook: Rulebook) -> None:
    """A typed date is one case's: a text that shows it is rendered each time, not kept in the process's memory."""
    from flows.errors import AnswerError

    texts = Texts(rulebook)
    flow = rulebook.flow("switch")
    question = flow.spec.questions["new_start_date"]
    name = "ungeloeftet/switch/new_start_date.j2"
    assert texts.reads(name, "before_current_start") == ("current_start_date",)  # read exactly, and a date
    error = AnswerError("guard", message="before_current_start")
    text = texts.error(error, flow, question, {"current_start_date": "2025-10-12"})
    assert "12. oktober 2025" in text and not any("2025-10-12" in key for key in texts._rendered)
    texts.question(flow, flow.spec.questions["current_start_date"], {"current_marker": "ips"})
    assert len(texts._rendered) == 1  # a block reading a chosen answer is still kept


def test_a_question_that_names_no_answer_is_rendered_once(rulebook: Rulebook) -> None:
    texts = Texts(rulebook)
    flow = rulebook.flow("switch")
    question = flow.spec.questions["new_start_date"]
    first = texts.question(flow, question, {"current_marker": "ips"})
    template = texts._node_template(flow, question.id)
    assert texts.reads(str(template.name), "question") == ()
    assert texts._rendered[(str(template.name), "question")] == first
    assert texts.question(flow, question, {}) == first  # from the cache: it would not render without answers


def test_a_block_whose_reads_are_not_known_is_rendered_every_time(rulebook: Rulebook) -> None:
    texts = Texts(rulebook)
    flow = rulebook.flow("switch")
    question = flow.spec.questions["current_start_date"]
    name = "ungeloeftet/switch/current_start_date.j2"
    texts._reads[(name, "question")] = None
    first = texts.question(flow, question, {"current_marker": "ips"})
    assert texts.question(flow, question, {"current_marker": "ips"}) == first
    assert not texts._rendered


def test_kept_texts_are_bounded(rulebook: Rulebook, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(texts_module, "RENDERED_KEPT", 3)
    texts = Texts(rulebook)
    flow = rulebook.flow("switch")
    question = flow.spec.questions["current_start_date"]
    for marker in ("ips", "fusm", "ips", "fusm", "ips"):
        texts.question(flow, question, {"current_marker": marker})
        assert len(texts._rendered) <= 3
    assert texts.question(flow, question, {"current_marker": "fusm"}).count("Flere unge skal med") == 1


def test_a_kept_message_is_kept_apart_from_the_same_text_as_markup(rulebook: Rulebook) -> None:
    from markupsafe import Markup

    texts = Texts(rulebook)
    plain = texts.common("chosen", label="<b>Ja</b>")
    assert "&lt;b&gt;" in plain  # escaped: what a caseworker typed is never markup
    assert texts.common("chosen", label=Markup("<b>Ja</b>")) != plain
    assert texts.common("chosen", label="<b>Ja</b>") == plain
    long = "x" * 300
    texts.common("chosen", label=long)
    assert not any(long in key for key in texts._static)  # long text is rendered each time, never kept
