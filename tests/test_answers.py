"""Typed yes/no and choices: every way a tired caseworker answers, and clear refusals."""

from __future__ import annotations

from datetime import date

import pytest

from flows.answers import normalise, parse_answer, parse_yes_no, read_choice, typed_answer
from flows.errors import AnswerError
from flows.model import Question, TypedRule

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


# The tests below pin each part of the reader that mutation testing showed unpinned (#10).

CONFIRM = (("yes", "Bekræft"), ("no", "Afvis"))  # labels that are not ja / nej: only the word lists can read them
YES_WORDS = ["ja", "j", "jo", "jep", "jeps", "ja tak", "ja da", "jada", "yes", "y", "ok", "okay", "sandt", "korrekt",
             "ja gerne", "gerne", "jamen ja", "javel", "jaja", "yep", "yup", "det er rigtigt", "rigtigt", "ja det er"]
NO_WORDS = ["nej", "n", "nej tak", "nix", "no", "nope", "ikke", "falsk", "nej da", "nejnej", "neej", "forkert",
            "nej det er ikke", "slet ikke"]


@pytest.mark.parametrize("text", YES_WORDS)
def test_every_yes_word_picks_yes(text: str) -> None:
    assert read_choice(text, CONFIRM) == "yes"


@pytest.mark.parametrize("text", NO_WORDS)
def test_every_no_word_picks_no(text: str) -> None:
    assert read_choice(text, CONFIRM) == "no"


@pytest.mark.parametrize("text, expected", [
    ("Ja–tak", "ja-tak"), ("Ja—tak", "ja-tak"), ("ÉÈÊÁÀÍÓ", "eeeaaio"), ("Æble, ØL og Å!", "æble øl og å"),
    ("a!b.c,d?e;f:g(h)i[j]k\"l'm»n«o", "a b c d e f g h i j k l m n o"), ("  to   ord \t ", "to ord"),
    ("!!?..", ""),
], ids=["en dash", "em dash", "accents", "ae oe aa kept", "punctuation", "spaces", "only punctuation"])
def test_normalise(text: str, expected: str) -> None:
    assert normalise(text) == expected


@pytest.mark.parametrize("text, value", [
    ("nr 2", "no"), ("nr. 2", "no"), ("nummer 3", "not_yet"), ("Nummer 1", "yes"), ("001", "yes"), ("3", "not_yet"),
    ("not yet", "not_yet"), ("not_yet", "not_yet"), ("Ikke endnu – der er gået under tre måneder", "not_yet"),
], ids=["nr 2", "nr. 2", "nummer 3", "Nummer 1", "001", "3", "value with space", "value", "label"])
def test_numbers_values_and_labels(text: str, value: str) -> None:
    assert read_choice(text, THREE) == value


@pytest.mark.parametrize("text", ["0", "4", "0001", "nr 4", "99999999999999999999"])
def test_a_number_outside_the_options_is_refused_with_the_count(text: str) -> None:
    with pytest.raises(AnswerError) as caught:
        read_choice(text, THREE)
    assert caught.value.code == "choice_number"
    assert caught.value.params == {"count": 3}


def test_an_unknown_choice_lists_every_option_and_the_text_typed() -> None:
    with pytest.raises(AnswerError) as caught:
        read_choice("  xyz ", STAR)
    assert caught.value.code == "choice_unknown"
    assert caught.value.params == {"text": "xyz", "options": ["Send til STAR", "Ret teksten", "Annullér"]}


def test_an_ambiguous_choice_lists_the_options_that_fit_and_the_text_typed() -> None:
    with pytest.raises(AnswerError) as caught:
        read_choice(" Ungeløftet ", tuple(LABELS.items()))
    assert caught.value.code == "choice_ambiguous"
    assert caught.value.params == {"text": "Ungeløftet", "options": list(LABELS.values())}


def test_an_unreadable_yes_no_is_named_so() -> None:
    with pytest.raises(AnswerError) as caught:
        read_choice("hmm", CONFIRM)
    assert caught.value.code == "yes_no_unreadable"
    assert caught.value.params == {"text": "hmm", "options": ["Bekræft", "Afvis"]}


def test_an_empty_choice_is_refused() -> None:
    with pytest.raises(AnswerError) as caught:
        read_choice(" ?! ", THREE)
    assert caught.value.code == "empty"


@pytest.mark.parametrize("text, value", [
    ("ann", "cancel"), ("annul", "cancel"), ("til", "send"), ("star", "send"), ("teksten", "edit"),
])
def test_a_label_beginning_of_three_letters_or_a_word_inside_it_picks(text: str, value: str) -> None:
    assert read_choice(text, STAR) == value


@pytest.mark.parametrize("text", ["an", "se", "te", "st"])
def test_two_letters_are_too_few_to_pick_by_beginning_or_inner_word(text: str) -> None:
    with pytest.raises(AnswerError) as caught:
        read_choice(text, (("a", "Annullér"), ("b", "Send st te")))
    assert caught.value.code == "choice_unknown"


def test_a_given_yes_no_wins_over_options_named_yes_and_no() -> None:
    options = (("yes", "Bekræft"), ("no", "Afvis"), ("later", "Senere"))
    assert read_choice("ja", options, yes_no=("later", "no")) == "later"
    assert read_choice("ja", options) == "yes"
    assert read_choice("nej", options) == "no"


def test_without_yes_no_a_plain_ja_picks_nothing() -> None:
    with pytest.raises(AnswerError) as caught:
        read_choice("ja", (("a", "Bekræft"), ("b", "Afvis")))
    assert caught.value.code == "choice_unknown"


def test_a_word_inside_a_label_is_read_only_when_nothing_else_fits() -> None:
    options = (("a", "Send nu"), ("b", "Nu ikke"))
    assert read_choice("nu", options) == "b"  # the first word of b, not the inner word of a


def test_a_choice_without_a_label_is_read_by_its_value() -> None:
    assert parse_answer(MARKERS, "fusm", TODAY, {}) == "fusm"
    assert parse_answer(MARKERS, "2", TODAY, {"ips": "IPS"}) == "fusm"


def test_an_optional_date_reads_a_date_too_and_a_required_one_refuses_a_skip_word() -> None:
    assert parse_answer(OPTIONAL_DATE, "i går", TODAY, {}) == "2026-01-14"
    with pytest.raises(AnswerError):
        parse_answer(REQUIRED_DATE, "-", TODAY, {})


MARKER_TYPED = Question("m", "choice", ("ips", "fusm", "other"), (), (), "000: Formål", typed=(
    TypedRule("ips", starts="Ungeløftet", contains="IPS", without="ikke"),
    TypedRule("fusm", contains="flere unge"),
    TypedRule("other", starts="anden"),
))


@pytest.mark.parametrize("text, value", [
    ("Ungeløftet – IPS", "ips"), ("ungeløftet ips forløb", "ips"), ("Ungeløftet: Flere unge skal med", "fusm"),
    ("STAR flere unge", "fusm"), ("Anden markering", "other"),
], ids=["ips label", "ips words", "fusm label", "fusm inside", "other"])
def test_typed_rules_are_read_in_order(text: str, value: str) -> None:
    assert typed_answer(MARKER_TYPED, text) == value
    assert parse_answer(MARKER_TYPED, text, TODAY, {}) == value


@pytest.mark.parametrize("text", ["ips", "Ungeløftet IPS ikke", "Ungeløftet", "en anden", "flere"],
                         ids=["ips alone", "ips without", "programme alone", "anden inside", "flere alone"])
def test_typed_rules_that_do_not_fit_give_none(text: str) -> None:
    assert typed_answer(MARKER_TYPED, text) is None


def test_typed_rule_with_only_one_part() -> None:
    question = Question("m", "choice", ("x",), (), (), "000: Formål", typed=(TypedRule("x", without="nej"),))
    assert typed_answer(question, "hvad som helst") == "x"
    assert typed_answer(question, "nej") is None
    assert typed_answer(YES_NO, "ja") is None


@pytest.mark.parametrize("text, expected", [("ja", True), ("okay", True), ("2", False), ("nope", False),
                                            ("", None), ("3", None), ("maaske", None)])
def test_parse_yes_no(text: str, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected


def test_parse_yes_no_reads_exactly_its_short_words() -> None:
    """Of every word of one to three letters (a-z, æ, ø, å), only these are read as a yes or a no: a letter more or
    less around "ja" or "nej" is not an answer the CLI's confirmation may act on."""
    letters = "abcdefghijklmnopqrstuvwxyzæøå"
    words = [a + b + c for a in letters for b in ("", *letters) for c in ("", *letters) if b or not c]
    read = {word: answer for word in words if (answer := parse_yes_no(word)) is not None}
    assert read == {"ja": True, "j": True, "jo": True, "jep": True, "yes": True, "y": True, "ok": True,
                    "yep": True, "yup": True, "nej": False, "n": False, "nix": False, "no": False}
