"""Danish dates: every form a caseworker types, clear errors, and calendar arithmetic across edges."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from flows.dates import add_months, day_before, format_date, parse_date, today_in_copenhagen
from flows.errors import AnswerError

TODAY = date(2026, 1, 15)


@pytest.mark.parametrize("text", [
    "1. februar 2026", "1 feb 2026", "1. feb. 26", "01.02.2026", "1.2.26", "1/2-2026", "1/2-26", "01-02-2026",
    "2026-02-01", "1/2/2026", "1/2 2026", "1. Februar 2026", "  1.2.2026. ", "søndag d. 1. februar 2026",
    "søndag den 1/2-26", "01022026", "010226", "1.feb.2026", "1. febr. 2026",
])
def test_reads_every_form_as_1_february_2026(text: str) -> None:
    assert parse_date(text, TODAY) == date(2026, 2, 1)


@pytest.mark.parametrize("text, expected", [
    ("i dag", TODAY), ("I dag", TODAY), ("idag", TODAY), ("i går", date(2026, 1, 14)), ("igår", date(2026, 1, 14)),
    ("i morgen", date(2026, 1, 16)), ("I MORGEN.", date(2026, 1, 16)), ("i forgårs", date(2026, 1, 13)),
    ("i overmorgen", date(2026, 1, 17)),
])
def test_relative_days(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


def test_relative_days_cross_the_year_end() -> None:
    assert parse_date("i går", date(2026, 1, 1)) == date(2025, 12, 31)
    assert parse_date("i morgen", date(2028, 2, 28)) == date(2028, 2, 29)


@pytest.mark.parametrize("text, code", [
    ("31. februar 2026", "date_no_such_day"), ("30/2-26", "date_no_such_day"), ("29.2.2026", "date_no_such_day"),
    ("31.4.2026", "date_no_such_day"), ("0.1.2026", "date_no_such_day"), ("1.13.2026", "date_no_such_month"),
    ("1. februar", "date_missing_year"), ("1/2", "date_missing_year"), ("1. flebruar 2026", "date_unknown_month"),
    ("snart", "date_unreadable"), ("😀", "date_unreadable"), ("ja tak", "date_unreadable"), ("", "date_empty"),
    ("1.2.1850", "date_no_such_year"),
])
def test_impossible_or_unreadable_dates_say_why(text: str, code: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_date(text, TODAY)
    assert caught.value.code == code


def test_no_such_day_names_the_month_and_its_length() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_date("31. februar 2026", TODAY)
    assert caught.value.params == {"day": 31, "month": "februar", "year": 2026, "last": 28}


def test_leap_day_exists_only_in_leap_years() -> None:
    assert parse_date("29.2.2028", TODAY) == date(2028, 2, 29)
    assert parse_date("29/2-24", TODAY) == date(2024, 2, 29)


def test_two_digit_years_are_20yy_and_day_comes_first() -> None:
    assert parse_date("3.4.99", TODAY) == date(2099, 4, 3)
    assert parse_date("12/10-25", TODAY) == date(2025, 10, 12)


def test_format() -> None:
    assert format_date(date(2026, 2, 1)) == "1. februar 2026"
    assert format_date(date(2025, 12, 31)) == "31. december 2025"


@pytest.mark.parametrize("given_day, expected", [
    (date(2028, 3, 1), date(2028, 2, 29)), (date(2026, 3, 1), date(2026, 2, 28)), (date(2026, 1, 1), date(2025, 12, 31)),
    (date(2025, 10, 10), date(2025, 10, 9)), (date(2026, 2, 1), date(2026, 1, 31)), (date(2026, 5, 1), date(2026, 4, 30)),
])
def test_day_before(given_day: date, expected: date) -> None:
    assert day_before(given_day) == expected


@pytest.mark.parametrize("start, months, expected", [
    (date(2025, 11, 30), 3, date(2026, 2, 28)), (date(2027, 11, 30), 3, date(2028, 2, 29)),
    (date(2025, 10, 15), 3, date(2026, 1, 15)), (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2026, 1, 15), -12, date(2025, 1, 15)), (date(2028, 2, 29), 12, date(2029, 2, 28)),
])
def test_add_months_clamps_to_the_last_day(start: date, months: int, expected: date) -> None:
    assert add_months(start, months) == expected


days = st.dates(min_value=date(1950, 1, 1), max_value=date(2150, 12, 31))
# Under `make mutation` each mutant reruns these: fewer examples keep the run short; the tables above pin the edges.
EXAMPLES = settings(max_examples=10 if Path(__file__).resolve().parents[1].name == "mutants" else 100)


@EXAMPLES
@given(days)
def test_formatting_then_parsing_returns_the_date(day: date) -> None:
    assert parse_date(format_date(day), TODAY) == day


@EXAMPLES
@given(days)
def test_numeric_forms_round_trip(day: date) -> None:
    assert parse_date(f"{day.day}.{day.month}.{day.year}", TODAY) == day
    assert parse_date(f"{day.day}/{day.month}-{day.year}", TODAY) == day
    assert parse_date(day.isoformat(), TODAY) == day


@EXAMPLES
@given(days)
def test_day_before_is_one_calendar_day_earlier(day: date) -> None:
    before = day_before(day)
    assert before + timedelta(days=1) == day
    assert (before.month, before.year) == (day.month, day.year) or day.day == 1


# Every month word the reader knows, with the month it must give: an explicit table, so a wrong number is caught.
MONTH_WORDS = {
    1: ["januar", "jan", "januari"], 2: ["februar", "feb", "febr", "februari"], 3: ["marts", "mar", "mart", "march"],
    4: ["april", "apr"], 5: ["maj", "may"], 6: ["juni", "jun", "june"], 7: ["juli", "jul", "july"],
    8: ["august", "aug"], 9: ["september", "sep", "sept"], 10: ["oktober", "okt", "oct", "october"],
    11: ["november", "nov"], 12: ["december", "dec"],
}


@pytest.mark.parametrize("month, word", [(m, w) for m, words in MONTH_WORDS.items() for w in words])
def test_every_month_word_and_abbreviation(month: int, word: str) -> None:
    assert parse_date(f"2. {word}. 2025", TODAY) == date(2025, month, 2)
    assert parse_date(f"2 {word.capitalize()} 25", TODAY) == date(2025, month, 2)


@pytest.mark.parametrize("text, shift", [
    ("i dag", 0), ("idag", 0), ("dags dato", 0), ("Dags dato.", 0),
    ("i går", -1), ("igår", -1), ("i gaar", -1), ("igaar", -1),
    ("i forgårs", -2), ("iforgårs", -2),
    ("i morgen", 1), ("imorgen", 1), ("i overmorgen", 2), ("iovermorgen", 2),
])
def test_every_relative_word(text: str, shift: int) -> None:
    assert parse_date(text, TODAY) == TODAY + timedelta(days=shift)


@pytest.mark.parametrize("text", [
    "mandag 2. februar 2026", "man. 2/2-26", "Mandag d. 2.2.2026", "mandag, 2. feb 2026", "man den 2/2-2026",
])
def test_a_weekday_that_matches_is_accepted(text: str) -> None:
    assert parse_date(text, TODAY) == date(2026, 2, 2)


@pytest.mark.parametrize("text, typed, actual", [
    ("mandag 3. februar 2026", "mandag", "tirsdag"), ("tirs. 2/2-26", "tirsdag", "mandag"),
    ("ons 2.2.2026", "onsdag", "mandag"), ("torsdag den 2. feb. 2026", "torsdag", "mandag"),
    ("tor 2/2-26", "torsdag", "mandag"), ("fre 2/2-26", "fredag", "mandag"), ("lør 2/2-26", "lørdag", "mandag"),
    ("søn 2/2-26", "søndag", "mandag"), ("tir 1/2-26", "tirsdag", "søndag"), ("fredag i dag", "fredag", "torsdag"),
])
def test_a_weekday_that_does_not_match_is_asked_back(text: str, typed: str, actual: str) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_date(text, TODAY)
    assert caught.value.code == "date_weekday_mismatch"
    assert caught.value.params["typed"] == typed and caught.value.params["actual"] == actual


def test_a_date_that_does_not_exist_is_refused_before_its_weekday() -> None:
    with pytest.raises(AnswerError) as caught:
        parse_date("mandag 30. februar 2026", TODAY)
    assert caught.value.code == "date_no_such_day"


@pytest.mark.parametrize("text, expected", [
    ("1.1.90", date(2090, 1, 1)), ("31/12-00", date(2000, 12, 31)), ("5. maj 99", date(2099, 5, 5)),
    ("010190", date(2090, 1, 1)),
])
def test_two_digit_years_are_always_20yy(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize("text, code", [
    ("1.1.1899", "date_no_such_year"), ("1.1.1900", None), ("31.12.2199", None), ("1.1.2200", "date_no_such_year"),
    ("1.0.2026", "date_no_such_month"), ("1.12.2026", None), ("32.1.2026", "date_no_such_day"),
    ("31.1.2026", None), ("2026-13-01", "date_no_such_month"), ("2026-02-30", "date_no_such_day"),
])
def test_the_edges_of_a_real_date(text: str, code: str | None) -> None:
    if code is None:
        parse_date(text, TODAY)
        return
    with pytest.raises(AnswerError) as caught:
        parse_date(text, TODAY)
    assert caught.value.code == code


@pytest.mark.parametrize("utc, expected", [
    (datetime(2026, 1, 14, 23, 30, tzinfo=timezone.utc), date(2026, 1, 15)),   # winter: UTC+1
    (datetime(2026, 1, 14, 22, 59, tzinfo=timezone.utc), date(2026, 1, 14)),
    (datetime(2026, 6, 30, 22, 30, tzinfo=timezone.utc), date(2026, 7, 1)),    # summer: UTC+2
    (datetime(2026, 6, 30, 21, 59, tzinfo=timezone.utc), date(2026, 6, 30)),
])
def test_today_is_taken_in_copenhagen_near_midnight(utc: datetime, expected: date) -> None:
    assert today_in_copenhagen(utc) == expected


def test_today_without_a_given_time_is_copenhagens_now() -> None:
    before = datetime.now(timezone.utc).astimezone(ZoneInfo("Europe/Copenhagen")).date()
    assert today_in_copenhagen() in (before, before + timedelta(days=1))


@pytest.mark.parametrize("text, code, params", [
    ("1.13.2026", "date_no_such_month", {"month": 13}),
    ("1.1.1850", "date_no_such_year", {"year": 1850}),
    ("1. flebruar 2026", "date_unknown_month", {"word": "flebruar", "text": "1. flebruar 2026"}),
    (" snart ", "date_unreadable", {"text": "snart"}),
    ("mandag 3.2.26", "date_weekday_mismatch", {"typed": "mandag", "actual": "tirsdag", "day": "3. februar 2026"}),
    ("1. februar", "date_missing_year", {}),
])
def test_every_date_error_carries_what_its_message_needs(text: str, code: str, params: dict[str, object]) -> None:
    with pytest.raises(AnswerError) as caught:
        parse_date(text, TODAY)
    assert (caught.value.code, caught.value.params, str(caught.value)) == (code, params, code)
