"""Danish date parsing and formatting, and the calendar arithmetic the date rules need."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flows.errors import AnswerError

COPENHAGEN = ZoneInfo("Europe/Copenhagen")

MONTH_NAMES = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)

# Full names, the usual abbreviations and a few common misspellings, all mapped to the month number.
_MONTHS: dict[str, int] = {name: number for number, name in enumerate(MONTH_NAMES, start=1)}
_MONTHS.update({
    "jan": 1, "feb": 2, "febr": 2, "mar": 3, "mart": 3, "apr": 4, "jun": 6, "jul": 7,
    "aug": 8, "sep": 9, "sept": 9, "okt": 10, "oct": 10, "nov": 11, "dec": 12,
    "januari": 1, "februari": 2, "march": 3, "may": 5, "june": 6, "july": 7, "october": 10,
})

# Days relative to today, as caseworkers write them (with and without the space).
_RELATIVE: dict[str, int] = {
    "i dag": 0, "idag": 0, "dags dato": 0,
    "i går": -1, "igår": -1, "i gaar": -1, "igaar": -1,
    "i forgårs": -2, "iforgårs": -2,
    "i morgen": 1, "imorgen": 1,
    "i overmorgen": 2, "iovermorgen": 2,
}

WEEKDAY_NAMES = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")
# A weekday as typed before a date, full or abbreviated, mapped to date.weekday() (Monday = 0).
_WEEKDAYS: dict[str, int] = {name: number for number, name in enumerate(WEEKDAY_NAMES)}
_WEEKDAYS.update({"man": 0, "tir": 1, "tirs": 1, "ons": 2, "tor": 3, "tors": 3, "fre": 4, "lør": 5, "søn": 6})

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_NUMERIC = re.compile(r"(\d{1,2})\s*[./-]\s*(\d{1,2})\s*(?:[./-]|\s)\s*(\d{4}|\d{2})")
_COMPACT = re.compile(r"(\d{2})(\d{2})(\d{4}|\d{2})")
_WORDED = re.compile(r"(\d{1,2})\s*\.?\s*([a-zæøå]+)\s*\.?\s*,?\s*(\d{4}|\d{2})")
_NO_YEAR = re.compile(r"(\d{1,2})\s*(?:[./-]\s*(\d{1,2})|\.?\s*([a-zæøå]+))\.?")
# Longest names first, so "tirsdag" is not read as "tirs" followed by "dag".
_LEAD = re.compile(r"^(?:(%s)\.?,?\s+)?(?:(?:d|den)\.?\s+)?" % "|".join(sorted(_WEEKDAYS, key=len, reverse=True)))


def today_in_copenhagen(now: datetime | None = None) -> date:
    """Today's date in Denmark, whatever the machine's own time zone (`now`, an aware time, for tests)."""
    return (now or datetime.now(timezone.utc)).astimezone(COPENHAGEN).date()


def format_date(value: date) -> str:
    """A date the Danish way: '1. februar 2026'."""
    return f"{value.day}. {MONTH_NAMES[value.month - 1]} {value.year}"


def day_before(value: date) -> date:
    """The previous calendar day (across month ends, year ends and leap days)."""
    return value - timedelta(days=1)


def add_months(value: date, months: int) -> date:
    """The same day some calendar months later; a day the month lacks becomes its last day."""
    index = value.year * 12 + value.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(value.day, last))


def parse_date(text: str, today: date) -> date:
    """Read a date as a Danish caseworker types it, day first; raise AnswerError saying why not.

    A date that does not exist is refused first; then a weekday typed before it must be the date's own."""
    lowered = " ".join(text.lower().split()).strip(" .,")
    lead = _LEAD.match(lowered)
    assert lead is not None  # every part of it is optional, so it always matches
    weekday = lead.group(1)
    value = _read(lowered[lead.end():], text, today)
    if weekday is not None and _WEEKDAYS[weekday] != value.weekday():
        raise AnswerError("date_weekday_mismatch", typed=WEEKDAY_NAMES[_WEEKDAYS[weekday]],
                          actual=WEEKDAY_NAMES[value.weekday()], day=format_date(value))
    return value


def _read(cleaned: str, text: str, today: date) -> date:
    """The date in the text without its leading weekday."""
    if not cleaned:
        raise AnswerError("date_empty")
    if cleaned in _RELATIVE:
        return today + timedelta(days=_RELATIVE[cleaned])
    if match := _ISO.fullmatch(cleaned):
        year, month, day = (int(group) for group in match.groups())
        return _build(day, month, year)
    for pattern in (_NUMERIC, _COMPACT):
        if match := pattern.fullmatch(cleaned):
            day_text, month_text, year_text = match.groups()
            return _build(int(day_text), int(month_text), _full_year(year_text))
    if match := _WORDED.fullmatch(cleaned):
        day_text, month_word, year_text = match.groups()
        return _build(int(day_text), _month_number(month_word, text), _full_year(year_text))
    if match := _NO_YEAR.fullmatch(cleaned):
        if match.group(2) or match.group(3) in _MONTHS:
            raise AnswerError("date_missing_year")
    raise AnswerError("date_unreadable", text=text.strip())


def _full_year(year: str) -> int:
    """Two-digit years are read as 20YY."""
    return 2000 + int(year) if len(year) == 2 else int(year)


def _month_number(word: str, text: str) -> int:
    """The month a Danish month name or abbreviation stands for."""
    if word in _MONTHS:
        return _MONTHS[word]
    raise AnswerError("date_unknown_month", word=word, text=text.strip())


def _build(day: int, month: int, year: int) -> date:
    """A real calendar date, or an AnswerError that says which part does not exist."""
    if not 1 <= month <= 12:
        raise AnswerError("date_no_such_month", month=month)
    if not 1900 <= year <= 2199:
        raise AnswerError("date_no_such_year", year=year)
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        raise AnswerError("date_no_such_day", day=day, month=MONTH_NAMES[month - 1], year=year, last=last)
    return date(year, month, day)
