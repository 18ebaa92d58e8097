"""Typed yes/no and choices: every way a tired caseworker answers, and clear refusals."""

from __future__ import annotations

from datetime import date

import pytest

from flows.answers import parse_answer, parse_yes_no, read_choice
from flows.errors import AnswerError
from flows.model import Question

TODAY = date(2026, 1, 15)
YES_NO = Question("q", "yes_no", ("yes", "no"), (), (), "000: Formål")
MARKERS = Question("m", "choice", ("ips", "fusm"), (), (), "000: Formål")
LABELS = {"ips": "Ungeløftet – IPS", "fusm": "Ungeløftet – Flere unge skal med"}
OPTIONAL_DATE = Question("d", "date", (), (), (), "000: Formål", optional=True)


@pytest.mark.parametrize("text", ["ja", "Ja", "JA", "j", "J", "ja tak", "Ja tak!", "jo", "1", "yes", " ja. "])
def test_yes(text: str) -> None:
    assert parse_answer(YES_NO, text, TODAY, {"yes": "Ja", "no": "Nej"}) == "yes"


@pytest.mark.parametrize("text", ["nej", "Nej", "NEJ", "n", "N", "nej tak", "Nej tak.", "2", "no", "nix"])
def test_no(text: str) -> None:
    assert parse_answer(YES_NO, text, TODAY, {"yes": "Ja", "no": "Nej"}) == "no"


@pytest.mark.parametrize("text, code", [
    ("måske", "yes_no_unreadable"), ("👍", "yes_no_unreadable"), ("3", "choice_number"), ("0", "choice_number"),
    ("", "empty"), ("   ", "empty"),
])
def test_yes_no_refusals(text: str, code: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(YES_NO, text, TODAY, {"yes": "Ja", "no": "Nej"})
    assert caught.value.code == code


@pytest.mark.parametrize("text, value", [
    ("1", "ips"), ("2", "fusm"), ("ips", "ips"), ("IPS", "ips"), ("fusm", "fusm"),
    ("Ungeløftet – IPS", "ips"), ("Ungeløftet - Flere unge skal med", "fusm"), ("flere unge skal med", "fusm"),
])
def test_choice_by_number_key_or_label(text: str, value: str) -> None:
    assert parse_answer(MARKERS, text, TODAY, LABELS) == value


@pytest.mark.parametrize("text, code", [("Ungeløftet", "choice_ambiguous"), ("xyz", "choice_unknown"),
                                        ("ja", "choice_unknown"), ("🙂", "choice_unknown")])
def test_ambiguous_or_unknown_choice_is_refused(text: str, code: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(MARKERS, text, TODAY, LABELS)
    assert caught.value.code == code


THREE = (("yes", "Ja"), ("no", "Nej"), ("not_yet", "Ikke endnu – der er gået under tre måneder"))


@pytest.mark.parametrize("text, value", [
    ("2", "no"), ("2.", "no"), ("2)", "no"), ("nr. 3", "not_yet"), ("nej tak", "no"), ("nope", "no"), ("jo", "yes"),
    ("ja tak", "yes"), ("ikke endnu", "not_yet"), ("Nej", "no"), ("endnu", "not_yet"),
])
def test_one_reader_for_every_choice(text: str, value: str) -> None:
    assert read_choice(text, THREE) == value


def test_ikke_is_asked_back_on_a_three_option_question() -> None:
    with pytest.raises(AnswerError) as caught:
        read_choice("ikke", THREE)
    assert caught.value.code == "choice_ambiguous"
    assert caught.value.params["options"] == ["Nej", "Ikke endnu – der er gået under tre måneder"]


STAR = (("send", "Send til STAR"), ("edit", "Ret teksten"), ("cancel", "Annullér"))


@pytest.mark.parametrize("text, value", [("ret", "edit"), ("Ret", "edit"), ("1", "send"), ("send", "send"),
                                         ("ja", "send"), ("nej", "cancel"), ("annuller", "cancel"), ("3)", "cancel")])
def test_the_star_confirmation_reads_the_same_way(text: str, value: str) -> None:
    assert read_choice(text, STAR, yes_no=("send", "cancel")) == value


def test_optional_date_can_be_skipped() -> None:
    assert parse_answer(OPTIONAL_DATE, "spring over", TODAY, {}) == ""
    assert parse_answer(OPTIONAL_DATE, "1.2.2026", TODAY, {}) == "2026-02-01"


def test_confirmation_words() -> None:
    assert parse_yes_no("Ja tak") is True
    assert parse_yes_no("nej") is False
    assert parse_yes_no("hmm") is None


REQUIRED_DATE = Question("r", "date", (), (), (), "000: Formål")


@pytest.mark.parametrize("question", [YES_NO, MARKERS, REQUIRED_DATE, OPTIONAL_DATE], ids=["yes_no", "choice",
                                                                                            "date", "optional date"])
@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_an_empty_answer_is_refused_for_every_kind(question: Question, text: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(question, text, TODAY, LABELS)
    assert caught.value.code == "empty"


@pytest.mark.parametrize("text", ["spring over", "Spring over.", "spring", "ved ikke", "-", "skip", "nej tak"])
def test_every_skip_word_skips_an_optional_date(text: str) -> None:
    assert parse_answer(OPTIONAL_DATE, text, TODAY, {}) == ""


@pytest.mark.parametrize("text, code", [
    ("spring over", "date_unreadable"), ("mandag 3. februar 2026", "date_weekday_mismatch"),
    ("30.2.2026", "date_no_such_day"),
])
def test_a_required_date_cannot_be_skipped_and_is_read_strictly(text: str, code: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_answer(REQUIRED_DATE, text, TODAY, {})
    assert caught.value.code == code


def test_a_date_answer_is_stored_in_iso_form() -> None:
    assert parse_answer(REQUIRED_DATE, "i går", TODAY, {}) == "2026-01-14"
