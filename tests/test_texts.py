"""bot/chat/texts.py: a flow template's block is rendered once when it reads nothing but the flow, and every time
when it reads the answers (the question text is on the hot path of every answer)."""

from __future__ import annotations

from flows.engine import Rulebook

from bot.chat.texts import Texts


def test_a_question_that_names_an_answer_is_rendered_for_each_dialogue(rulebook: Rulebook) -> None:
    texts = Texts(rulebook)  # its own cache, not the session's
    flow = rulebook.flow("switch")
    question = flow.spec.questions["current_start_date"]
    ips, fum = (texts.question(flow, question, {"current_marker": marker}) for marker in ("ips", "fusm"))
    assert "IPS" in ips and "Flere unge skal med" in fum
    assert texts.question(flow, question, {"current_marker": "ips"}) == ips


def test_a_question_that_names_no_answer_is_rendered_once(rulebook: Rulebook) -> None:
    texts = Texts(rulebook)
    flow = rulebook.flow("switch")
    question = flow.spec.questions["new_start_date"]
    first = texts.question(flow, question, {"current_marker": "ips"})
    template = texts._node_template(flow, question.id)
    assert texts._fixed[(str(template.name), "question")] == first
    assert texts.question(flow, question, {}) == first  # from the cache: it would not render without answers
    named = flow.spec.questions["current_start_date"]
    texts.question(flow, named, {"current_marker": "ips"})
    assert texts._fixed[("ungeloeftet/switch/current_start_date.j2", "question")] is None  # never cached


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
