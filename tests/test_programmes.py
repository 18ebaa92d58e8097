"""Two programmes side by side: the router reads what caseworkers type, /program and UNGEBOT_PROGRAMMES choose,
and decide, the log, the STAR draft, help and "Hvorfor?" each name the flow's own programme (rulebook-2017.md §6.1,
§9)."""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Segment
from bot.chat.programmes import enabled_catalogue
from bot.chat.texts import Texts, to_plain
from flows.answers import parse_answer
from flows.catalogue import Catalogue, load_catalogue, parse_programmes
from flows.errors import AnswerError, FlowError
from flows.trace import trace

from tests.test_cli import run

TODAY = date(2018, 3, 12)
GROUP_CHANGE = {"current_group": "gr1", "start_group": "gr1", "new_group": "gr3",
                "current_start_date": "2017-10-16", "decision_date": "2018-03-12"}


def _read(catalogue: Catalogue, texts: Texts, question_id: str, text: str) -> str:
    flow = catalogue.flow("programme")
    question = flow.spec.questions[question_id]
    return parse_answer(question, text, TODAY, texts.option_labels(flow, question))


@pytest.mark.parametrize("text, value", [
    ("Flere unge skal med", "ungeloeftet"), ("Ungeløftet", "ungeloeftet"), ("IPS", "ungeloeftet"),
    ("Flere skal med", "flere_skal_med_2017"), ("Flere skal med 2017", "flere_skal_med_2017"),
    ("2017", "flere_skal_med_2017"), ("Ved ikke", "unsure")])
def test_the_programme_question_reads_each_programmes_names(catalogue: Catalogue, catalogue_texts: Texts,
                                                            text: str, value: str) -> None:
    assert _read(catalogue, catalogue_texts, "programme", text) == value


@pytest.mark.parametrize("text", ["FSM", "FUSM", "skal med", "flere", "Flere Skal Med unge"])
def test_text_that_fits_both_or_neither_is_asked_again(catalogue: Catalogue, catalogue_texts: Texts,
                                                       text: str) -> None:
    with pytest.raises(AnswerError):
        _read(catalogue, catalogue_texts, "programme", text)


@pytest.mark.parametrize("text, value", [
    ("Ungeløftet – IPS", "ungeloeftet_marker"), ("Ungeløftet - Flere skal med", "ungeloeftet_marker"),
    ("ungeløftet – flere unge skal med", "ungeloeftet_marker"), ("Flere unge skal med", "ungeloeftet_marker"),
    ("Flere Skal Med Gr. 1 – Vis. til indsatsgruppen", "fsm2017_marker"),
    ("Flere Skal Med - bruttomålgruppe", "fsm2017_marker"), ("flere skal med udskudt visitation", "fsm2017_marker"),
    ("3", "none_seen")])
def test_a_typed_marker_name_tells_the_programme(catalogue: Catalogue, catalogue_texts: Texts,
                                                 text: str, value: str) -> None:
    assert _read(catalogue, catalogue_texts, "marker_family", text) == value


@pytest.mark.parametrize("text", ["Flere Skal Med unge", "FSM Gr. 1", "Gr. 1"])
def test_a_marker_name_of_neither_programme_is_asked_again(catalogue: Catalogue, catalogue_texts: Texts,
                                                           text: str) -> None:
    with pytest.raises(AnswerError):
        _read(catalogue, catalogue_texts, "marker_family", text)


def test_no_label_names_the_other_programme(catalogue: Catalogue, catalogue_texts: Texts) -> None:
    for name, other in (("flere_skal_med_2017", ("ungeløftet", "unge skal med")), ("ungeloeftet", ())):
        for flow in catalogue.rulebooks[name].flows.values():
            for question in flow.spec.questions.values():
                if question.kind != "date":
                    for label in catalogue_texts.option_labels(flow, question).values():
                        assert not any(word in label.lower() for word in other), (flow.id, label)
    labels = catalogue_texts.option_labels(catalogue.flow("programme"), catalogue.flow("programme").question("programme"))
    assert "flere skal med" not in labels["ungeloeftet"].lower()
    assert "unge" not in labels["flere_skal_med_2017"].lower()


def test_a_new_case_asks_the_programme_first_and_stays_in_the_one_chosen(both: Conversation) -> None:
    state = both.new_state()
    assert both.position(state, TODAY).question.id == "programme"
    turn = both.handle(state, "Flere skal med", TODAY)
    assert [s.flow for s in turn.state.segments] == ["programme", "fsm2017_situation"]
    assert "'Flere skal med' (2017)" in turn.replies[-1].text
    turn = both.handle(turn.state, "/forfra", TODAY)
    if turn.state.pending:  # /forfra may ask first when answers were given
        turn = both.handle(turn.state, "ja", TODAY)
    assert [s.flow for s in turn.state.segments] == ["programme"]


def test_program_command_remembers_the_choice_across_cases_and_restarts(both: Conversation) -> None:
    state = both.new_state()
    turn = both.handle(state, "/program_2017", TODAY)
    assert [s.flow for s in turn.state.segments] == ["fsm2017_situation"]
    stored = json.loads(json.dumps(turn.state.to_dict()))
    restored = both.restore(stored, TODAY)
    assert restored.programme == "flere_skal_med_2017"
    turn = both.handle(restored, "6", TODAY)  # "can I backdate": an outcome, then a new case
    assert turn.decision is not None and turn.decision.outcome["gap"] == "G-4"
    turn = both.handle(turn.state, "ny", TODAY)
    assert [s.flow for s in turn.state.segments] == ["fsm2017_situation"]
    turn = both.handle(turn.state, "/program begge", TODAY)
    assert [s.flow for s in turn.state.segments] == ["programme"] and turn.state.programme is None
    menu = to_plain(both.handle(turn.state, "/program", TODAY).replies[0].text)
    assert "/program_ungeloeftet" in menu and "begge programmer" in menu


def test_program_choice_mid_case_applies_from_the_next_case(both: Conversation) -> None:
    state = DialogueState([Segment("programme", {"programme": "flere_skal_med_2017"}), Segment("fsm2017_situation")])
    turn = both.handle(state, "/program_ungeloeftet", TODAY)
    assert [s.flow for s in turn.state.segments] == ["programme", "fsm2017_situation"]
    assert "Fra næste sag" in turn.replies[0].text and turn.state.programme == "ungeloeftet"
    assert "kender jeg ikke" in both.handle(turn.state, "/program_fsm", TODAY).replies[0].text


def test_one_programme_enabled_starts_there_and_refuses_the_other(catalogue_texts: Texts) -> None:
    only = load_catalogue(("flere_skal_med_2017",))
    conversation = Conversation(only, Texts(only), "Testkommune")  # type: ignore[arg-type]
    state = conversation.new_state()
    assert [s.flow for s in state.segments] == ["fsm2017_situation"]
    turn = conversation.handle(state, "/program_ungeloeftet", TODAY)
    assert "kun 'Flere skal med' (2017) slået til" in to_plain(turn.replies[0].text)
    assert [f.id for f in only.listed()][0] == "fsm2017_situation"
    assert all(f.id.startswith("fsm2017_") for f in only.listed())


def test_ungebot_programmes_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_programmes("") == ("ungeloeftet", "flere_skal_med_2017")
    assert parse_programmes("2017") == ("flere_skal_med_2017",)
    assert parse_programmes("flere_skal_med_2017, ungeloeftet") == ("ungeloeftet", "flere_skal_med_2017")
    monkeypatch.setenv("UNGEBOT_PROGRAMMES", "fusm")
    with pytest.raises(SystemExit, match="UNGEBOT_PROGRAMMES »fusm«"):
        enabled_catalogue()
    with pytest.raises(FlowError):
        Catalogue(("both",))


def test_decide_finds_a_2017_flow_and_logs_its_programme_and_edition(private_database: Path) -> None:
    result = run("decide", "fsm2017_group_change", "-a", "current_group=1", "-a", "start_group=gruppe 1",
                 "-a", "new_group=gruppe 3", "-a", "current_start_date=16.10.2017", "-a", "decision_date=i dag",
                 "--json", today="2018-03-12")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["programme"], data["rulebook_edition"]) == ("flere_skal_med_2017", "flere_skal_med_2017.1")
    assert data["warnings"] == ["assumed_date_rule"] and data["effect"] == "still_counts_in_group1_monitoring"
    assert [(a["do"], a["marker"], a["date"]) for a in data["actions"]] == [
        ("end", "Flere Skal Med Gr. 1 – Vis. til indsatsgruppen", "2018-03-11"),
        ("create", "Flere Skal Med Gr. 3 – Socialforvalt. Underrettes", "2018-03-12")]
    assert "Antaget dato" in data["text"]
    row = sqlite3.connect(private_database).execute("select programme, flow, rulebook_edition from decisions").fetchone()
    assert row == ("flere_skal_med_2017", "fsm2017_group_change", "flere_skal_med_2017.1")
    replay = run("log", "replay", today="2018-03-12")
    assert replay.returncode == 0 and "giver det samme" in replay.stdout, replay.stdout + replay.stderr


def test_the_star_draft_names_the_programme_and_goes_to_star(both: Conversation) -> None:
    state = DialogueState([Segment("fsm2017_situation", {"situation": "late_registration"})])
    subject, body = both.star_draft(state, "Hvad gør vi nu?", TODAY)
    assert subject.startswith("Spørgsmål om persongruppemarkeringer i 'Flere skal med' (2017) – G-4")
    assert "16-10-2017" in body and "nka@star.dk" not in subject + body and "ikke Ungeløftet" in body
    turn = both.handle(state, "/star Hvad gør vi nu?", TODAY)
    assert turn.star_draft is not None and turn.star_draft.programme == "flere_skal_med_2017"
    assert both.recipient == "star@star.dk"


def test_help_cites_the_note_and_names_the_2017_contact_only_there(both: Conversation) -> None:
    state = DialogueState([Segment("fsm2017_job_broker")])
    text = to_plain(both.handle(state, "/hjælp", TODAY).replies[0].text)
    assert "STARs notat om 'Flere skal med' (2017) af 16-10-2017, Flere Skal Med Personlig jobformidler" in text
    assert "nka@star.dk" in text and "/star" in text


def test_why_explains_a_2017_outcome_with_its_own_markers(catalogue: Catalogue, catalogue_texts: Texts) -> None:
    from bot.chat.why import Why

    why = Why(catalogue_texts)
    steps = trace(catalogue, [("fsm2017_situation", {"situation": "group_change"}),  # type: ignore[arg-type]
                              ("fsm2017_group_change", GROUP_CHANGE)], TODAY)
    text = why.plain(steps)
    assert "Noten: Bemærk › gensidigt udelukkende" in text
    assert ("»Flere Skal Med Gr. 1 – Vis. til indsatsgruppen«: beslutningsdagen 12. marts 2018 − 1 dag = slutdato "
            "11. marts 2018") in text
    for flow in catalogue.rulebooks["flere_skal_med_2017"].flows.values():
        for question in flow.spec.questions.values():
            if question.kind == "date":
                assert why.date_name(question.id)


async def test_telegram_asks_the_programme_then_walks_a_2017_case(private_database: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fake_telegram import buttons
    from tests.test_telegram import Harness

    monkeypatch.setenv("UNGEBOT_TODAY", "2017-10-16")
    monkeypatch.setenv("UNGEBOT_PROGRAMMES", "")  # the default: both
    async with Harness(private_database) as harness:
        sent = await harness.send("/start")
        assert "Hvilket program hører sagen til?" in sent[-1]["text"]
        assert all(len(data.encode()) <= 64 for _, data in buttons(sent[-1]))
        sent = await harness.click(sent[-1], "Projektet Flere skal med 2017 (STARs notat af 16-10-2017)")
        sent = await harness.click(sent[-1], "Borgeren kan midlertidigt ikke deltage (udskudt visitation)")
        sent = await harness.click(sent[-1], "Ja, uden slutdato")
        sent = await harness.click(sent[-1], "Nej, ingen gruppemarkering")
        sent = await harness.click(sent[-1], "Har en forestående barsel")
        sent = await harness.send("i dag")
        outcome = sent[-1]["text"]
        assert ("Opret markeringen »Flere Skal Med Udskudt visitation« med startdato <b>16. oktober 2017</b>"
                in outcome)
        assert "(2017) af 16-10-2017" in outcome and "Flere skal med" in outcome
        rows = harness.rows("select programme, flow, rulebook_edition from decisions")
        assert rows == [("flere_skal_med_2017", "fsm2017_postponed", "flere_skal_med_2017.1")]


def test_the_web_chat_asks_the_programme_then_walks_a_2017_case(private_database: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.web_client import Browser, make_app

    monkeypatch.setenv("UNGEBOT_TODAY", "2017-10-16")
    monkeypatch.setenv("UNGEBOT_PROGRAMMES", "")  # the default: both
    with Browser(make_app(private_database)) as browser:
        browser.open()
        assert "Hvilket program hører sagen til?" in browser.page
        browser.type("Flere Skal Med Gr. 1")  # not a programme's name: asked again, never guessed
        assert "Hvilket program hører sagen til?" in browser.page
        browser.press("Projektet Flere skal med 2017 (STARs notat af 16-10-2017)")
        browser.press("En personlig jobformidler er tildelt, skiftet eller ophørt")
        browser.press("Borgeren har fået tildelt en personlig jobformidler")
        browser.press("Ja")
        browser.press("Ja")
        browser.type("i dag")
        assert "»Flere Skal Med Personlig jobformidler tildeles« med startdato" in browser.page
    row = sqlite3.connect(private_database).execute("SELECT programme, flow FROM decisions").fetchone()
    assert row == ("flere_skal_med_2017", "fsm2017_job_broker")


# The catalogue itself, pinned part by part (mutation testing of flows/catalogue.py, #10).

def test_the_catalogue_of_both_starts_at_the_shared_router(catalogue: Catalogue) -> None:
    assert catalogue.programme is catalogue.router.programme
    assert catalogue.edition == catalogue.router.programme.edition
    assert (catalogue.entry(), catalogue.entry("ungeloeftet"), catalogue.entry("flere_skal_med_2017"),
            catalogue.entry("nothing")) == ("programme", "situation", "fsm2017_situation", "programme")
    assert catalogue.routers == frozenset({"programme", "situation", "fsm2017_situation"})
    listed = [flow.id for flow in catalogue.listed()]
    assert listed[:2] == ["programme", "situation"] and sorted(listed) == sorted(catalogue.flows)
    assert listed.index("fsm2017_situation") == 1 + len(catalogue.rulebooks["ungeloeftet"].flows)
    assert catalogue.programme_of("fsm2017_situation") is catalogue.rulebooks["flere_skal_med_2017"].programme
    assert catalogue.programme_of("programme") is catalogue.router.programme


def test_a_catalogue_of_one_starts_in_it() -> None:
    only = load_catalogue(("ungeloeftet",))
    assert only is load_catalogue(("ungeloeftet",))
    book = only.rulebooks["ungeloeftet"]
    assert only.programme is book.programme and only.edition == book.programme.edition
    assert (only.entry(), only.entry("flere_skal_med_2017")) == ("situation", "situation")
    listed = [flow.id for flow in only.listed()]
    assert listed[0] == "situation" and sorted(listed) == sorted(book.flows)


def test_an_unknown_flow_or_programme_is_named(catalogue: Catalogue) -> None:
    with pytest.raises(KeyError, match="unknown flow 'nope'; known: programme, "):
        catalogue.flow("nope")
    with pytest.raises(FlowError, match=r"unknown programme\(s\) \['both'\]; choose from \['ungeloeftet', "):
        Catalogue(("ungeloeftet", "both"))
    with pytest.raises(FlowError, match=r"unknown programme\(s\) \[\]"):
        Catalogue(())


@pytest.mark.parametrize("raw, expected", [
    ("fsm2017", ("flere_skal_med_2017",)), ("Ungeløftet", ("ungeloeftet",)), ("UNGELOEFTET  2017", None),
    ("2017,2017", ("flere_skal_med_2017",)), ("  ", None), ("ungeloeftet,flere_skal_med_2017", None),
], ids=["fsm2017", "ungeloeftet alias", "upper case and spaces", "twice", "blank", "comma"])
def test_programme_names_and_aliases(raw: str, expected: tuple[str, ...] | None) -> None:
    assert parse_programmes(raw) == (expected or ("ungeloeftet", "flere_skal_med_2017"))


def test_an_unknown_programme_name_is_refused_with_the_choices() -> None:
    with pytest.raises(ValueError, match="UNGEBOT_PROGRAMMES: unknown programme.s. fusm, x; "
                                         "use ungeloeftet or flere_skal_med_2017"):
        parse_programmes("fusm x 2017")
