"""The CPR detector against a table of true and false cases: every form a person types, and the numbers of a
caseworker's day that are not CPR numbers."""

from __future__ import annotations

import pytest

from flows.privacy import contains_cpr

FOUND = [
    "010203-1234", "0102031234", "den unge har cpr 311299-4321 og", "290200-1234", "cpr: 150385 1234",
    "(010101-0001)", "010190-1234.", "010190 1234", "010190 - 1234", "010190 -1234", "010190- 1234",
    "010190\u20131234",            # en dash
    "010190\u20111234",            # non-breaking hyphen
    "010190\u22121234",            # minus sign
    "010190\u20101234",            # hyphen U+2010
    "010190 \u2013 1234", "010190/1234", "010190\u00a01234",
    "0101-90-1234", "01.01.90-1234", "01 01 90-1234", "01 01 90 1234", "01/01/90-1234", "01.01.90 - 1234",
    "01-01-90-1234", "01. 01. 90-1234",
    "cpr 0101901234", "CPR-nr. 010190-1234", "cpr.nr.: 010190 1234", "Cpr nummer 010190-1234", "cpr010190-1234",
    "cpr 999999-9999",             # labelled: refused even though no such date exists
    "32 01 99 1234 og 010190-1234",  # a number that is no date before the real one
    "første linje\n010190-1234\nsidste linje",
    "\uff10\uff11\uff10\uff11\uff19\uff10-\uff11\uff12\uff13\uff14",   # full-width digits
]

NOT_FOUND = [
    "320101-1234",          # no 32nd day
    "011301-1234",          # no 13th month
    "290201-1234",          # 29 February 1901 and 2001 do not exist
    "1234567890",           # 12 34 56: no such date
    "tlf 12 34 56 78", "22334455", "+45 22 33 44 55", "+45 12 34 56 78", "+4512345678", "0045 12 34 56 78",
    "tlf. 20 11 90 12 og 33 44 55 66",
    "beløb 12.345,00 kr.", "1.234.567 kr", "12.345,50 kr", "1.010.901.234 kr", "kr. 101.190,1234",
    "sag 2026-123456", "j.nr. 26/12345", "01022026", "sagsnr. 2025-0123-4567", "journal 24-012345",
    "01020312345", "10102031234",                        # eleven digits
    "Den unge starter 1.2.2026", "01.02.2026 10:30", "01.02.26 10:30", "01.02.2026 kl. 10.30",
    "mellem 010126 og 310126", "fra 1/12-2025 til 31/1-2026", "2026-02-01T10:30:00",
    "", "ja", "cpr-nummeret har jeg ikke skrevet", "cpr 12 34",
]


@pytest.mark.parametrize("text", FOUND)
def test_cpr_numbers_are_found(text: str) -> None:
    assert contains_cpr(text)


@pytest.mark.parametrize("text", NOT_FOUND)
def test_other_numbers_are_not_cpr(text: str) -> None:
    assert not contains_cpr(text)


def test_a_leap_day_counts_only_in_a_leap_year_of_either_century() -> None:
    assert contains_cpr("290200-1234") and contains_cpr("290296-1234") and contains_cpr("290204-1234")
    assert not contains_cpr("290203-1234") and not contains_cpr("290297-1234")
