"""Find CPR numbers in free text, so that the bot can refuse the text before it is stored or echoed."""

from __future__ import annotations

import re
from datetime import date

# Six digits (ddmmyy), an optional dash or space, four digits; not part of a longer run of digits.
_CPR = re.compile(r"(?<![\d])(\d{2})(\d{2})(\d{2})[-\s]?(\d{4})(?![\d])")


def _is_birth_date(day: int, month: int, year: int) -> bool:
    """True when ddmmyy is a real date in either century a CPR number can mean."""
    for century in (1900, 2000):
        try:
            date(century + year, month, day)
            return True
        except ValueError:
            continue
    return False


def contains_cpr(text: str) -> bool:
    """True when the text holds something that reads as a CPR number: ddmmyy-nnnn or ten digits, a real date first."""
    for match in _CPR.finditer(text):
        day, month, year, _ = (int(group) for group in match.groups())
        if _is_birth_date(day, month, year):
            return True
    return False
