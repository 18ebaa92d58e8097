"""Danish dates: every form a caseworker types, clear errors, and calendar arithmetic across edges."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from flows.dates import add_months, day_before, format_date, parse_date
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


@given(days)
def test_formatting_then_parsing_returns_the_date(day: date) -> None:
    assert parse_date(format_date(day), TODAY) == day


@given(days)
def test_numeric_forms_round_trip(day: date) -> None:
    assert parse_date(f"{day.day}.{day.month}.{day.year}", TODAY) == day
    assert parse_date(f"{day.day}/{day.month}-{day.year}", TODAY) == day
    assert parse_date(day.isoformat(), TODAY) == day


@given(days)
def test_day_before_is_one_calendar_day_earlier(day: date) -> None:
    before = day_before(day)
    assert before + timedelta(days=1) == day
    assert (before.month, before.year) == (day.month, day.year) or day.day == 1
