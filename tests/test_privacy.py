"""The CPR detector against true and false cases."""

from __future__ import annotations

import pytest

from flows.privacy import contains_cpr


@pytest.mark.parametrize("text", [
    "010203-1234", "0102031234", "den unge har cpr 311299-4321 og", "290200-1234", "cpr: 150385 1234",
    "(010101-0001)", "010190-1234.",
])
def test_cpr_numbers_are_found(text: str) -> None:
    assert contains_cpr(text)


@pytest.mark.parametrize("text", [
    "320101-1234",          # no 32nd day
    "011301-1234",          # no 13th month
    "290201-1234",          # 29 February 1901 and 2001 do not exist
    "1234567890",           # 12 34 56: no such date
    "tlf 12 34 56 78", "22334455", "+45 22 33 44 55",   # phone numbers
    "beløb 12.345,00 kr.", "1.234.567 kr",             # amounts
    "sag 2026-123456", "j.nr. 26/12345", "01022026",    # case numbers and a date
    "01020312345", "10102031234",                        # eleven digits
    "Den unge starter 1.2.2026",
])
def test_other_numbers_are_not_cpr(text: str) -> None:
    assert not contains_cpr(text)
