"""How this machine's durable commit depends on the CPU work just before it: the same one-page SQLite commit (WAL,
synchronous=FULL, on the project's disk) after different stretches of busy CPU, taken in turns so that drift hits
all alike. Prints the COMMIT's p10/p50/p90 per stretch (its statement is timed apart); asserts nothing.

    .venv/bin/python bench/fsync.py [--commits 2000] [--dir D]

With `--dir /dev/shm` (no disk, so no fsync) it is the control: there the COMMIT does not grow with the stretch.

Why it matters: bench/telegram.py's "commit alone" runs back to back, with almost no CPU work between two commits,
while a bot's commit follows a millisecond of its own work. If the fsync costs more after a longer busy stretch,
the sum "bare bot + commit alone" asks for a commit no bot gets (see bench/README.md, "Telegram").
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.db import open_database  # noqa: E402

STRETCHES = (0, 100, 400, 700, 1500)  # µs of busy CPU before each commit


def busy(microseconds: int) -> None:
    """Keep the CPU busy (not asleep) for this long, as a bot's work does."""
    end = time.perf_counter_ns() + microseconds * 1000
    while time.perf_counter_ns() < end:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=2000, help="commits per stretch")
    parser.add_argument("--dir", type=Path, default=ROOT, help="where the database goes (default: the project's disk)")
    args = parser.parse_args()
    timings: dict[int, list[float]] = {stretch: [] for stretch in STRETCHES}  # the COMMIT alone, µs
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        conn = open_database(Path(folder) / "fsync.db")
        conn.execute("CREATE TABLE row (id INTEGER PRIMARY KEY, body TEXT)")
        conn.commit()
        for count in range(args.commits):
            for stretch in STRETCHES:  # each commit follows the stretch alone: the last commit ended just before
                busy(stretch)
                with conn:
                    conn.execute("INSERT OR REPLACE INTO row VALUES (?, ?)", (count % 100, f"{count:x}" * 150))
                    wrote = time.perf_counter_ns()
                timings[stretch].append((time.perf_counter_ns() - wrote) / 1000)
        conn.close()
    print(f"COMMIT of one page (WAL, synchronous=FULL) in {args.dir}, {args.commits:,} commits per stretch:")
    for stretch, values in timings.items():
        ordered = sorted(values)
        print(f"  after {stretch:5} µs of busy CPU: p10 {ordered[len(ordered) // 10]:5.0f} µs   "
              f"p50 {statistics.median(ordered):5.0f} µs   p90 {ordered[9 * len(ordered) // 10]:5.0f} µs")


if __name__ == "__main__":
    main()
