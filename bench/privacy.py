"""CPR detector speed: µs per call of `contains_cpr` on the kinds of text a caseworker types (it runs on every
input, in every channel). Prints figures; asserts nothing.

    .venv/bin/python bench/privacy.py [--number 20000]
"""

from __future__ import annotations

import argparse
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flows.privacy import contains_cpr  # noqa: E402

TEXTS = {
    "a yes": "ja",
    "a date": "1. februar 2026",
    "a CPR number": "010190-1234",
    "a question to STAR (440 characters, dates, an amount, a phone number)": (
        "Den unge er flyttet til Aarhus og har fået job som tømrerlærling; hvad gør vi med markøren fra 12.10.2025 "
        "og beløb 12.345,50 kr? tlf +45 12 34 56 78 ") * 3,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000)
    args = parser.parse_args()
    for label, text in TEXTS.items():
        seconds = min(timeit.repeat(lambda: contains_cpr(text), number=args.number, repeat=3))
        print(f"contains_cpr, {label}: {seconds / args.number * 1e6:.1f} µs per call")


if __name__ == "__main__":
    main()
