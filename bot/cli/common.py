"""What every sub-command shares: the refusal of bad input and the reading of whole numbers."""

from __future__ import annotations


class Refused(Exception):
    """Bad input to a command: the Danish message is printed, the exit code is 2, and nothing was stored."""


# The largest id SQLite stores; past it no row can exist.
LARGEST_ID = 2**63 - 1


def whole_number(text: str, name: str, most: int = LARGEST_ID) -> int:
    """A whole number from 1 to `most` typed on the command line, or Refused naming the option and the range."""
    typed = str(text).strip()
    # ASCII digits only ("²" is a digit to Python but not a number), and no more of them than `most` has.
    if not (typed.isascii() and typed.isdigit()) or len(typed) > len(str(most)) or not 1 <= int(typed) <= most:
        raise Refused(f"{name} skal være et helt tal fra 1 til {most:,}".replace(",", ".")
                      + f" (fik »{typed[:30]}{'…' if len(typed) > 30 else ''}«).")
    return int(typed)
