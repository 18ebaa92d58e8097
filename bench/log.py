"""Decision-log speed: durable appends per second (WAL, synchronous=FULL, on disk) and the time to list one
user's last 50 decisions in a log of 1,000,000 rows. Prints figures; asserts nothing.

    .venv/bin/python bench/log.py [--appends 5000] [--rows 1000000] [--users 1000] [--queries 2000]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage import log  # noqa: E402
from storage.db import open_database  # noqa: E402
from storage.records import Staff, append_decision  # noqa: E402

# A typical logged decision: the guide's switch example, as the engine records it.
ANSWERS = [{"flow": "situation", "question": "situation", "value": "switch"},
           {"flow": "switch", "question": "current_marker", "value": "fusm"},
           {"flow": "switch", "question": "psychiatry_course", "value": "yes"},
           {"flow": "switch", "question": "current_start_date", "value": "2025-10-12"},
           {"flow": "switch", "question": "new_start_date", "value": "2026-02-01"}]
OUTCOME = {"result": "register", "effect": "counts", "use_flow": None, "warnings": [], "outcome": "switched",
           "gap": None, "deadline": None,
           "sources": ["000: Den unge skifter målgruppe", "000: Målgruppekriterier",
                       "000: Overblik over registrering i Ungeløftet › SKIFTER MÅLGRUPPE"],
           "actions": [{"do": "end", "marker": "Ungeløftet – Flere unge skal med", "marker_key": "fusm",
                        "date": "2026-01-31", "other_person": False},
                       {"do": "create", "marker": "Ungeløftet – IPS", "marker_key": "ips", "date": "2026-02-01",
                        "other_person": False}]}


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


def bench_appends(folder: Path, count: int, chunk: int = 250) -> None:
    """Our appends, interleaved chunk by chunk with bare fully-synchronous WAL commits of a tiny row: the disk's
    fsync time drifts a lot on a shared machine, and the reference shows what it allowed during this very run."""
    conn = open_database(folder / "appends.db")
    reference = sqlite3.connect(folder / "reference.db", isolation_level=None)
    reference.execute("PRAGMA journal_mode=WAL")
    reference.execute("PRAGMA synchronous=FULL")
    reference.execute("CREATE TABLE t (n INTEGER)")
    staff = Staff("telegram", "111", "Sagsbehandler")
    ours: list[float] = []
    bare: list[float] = []
    while len(ours) < count:
        for _ in range(min(chunk, count - len(ours))):
            before = time.perf_counter_ns()
            append_decision(conn, staff, "ungeloeftet", "switch", "ungeloeftet-2025.1", ANSWERS, OUTCOME, "2026-01-15")
            ours.append((time.perf_counter_ns() - before) / 1000)
        for n in range(chunk):
            before = time.perf_counter_ns()
            reference.execute("INSERT INTO t VALUES (?)", (n,))  # autocommit: one fsynced commit each
            bare.append((time.perf_counter_ns() - before) / 1000)
    for label, timings in (("durable appends to the decision log (WAL, synchronous=FULL)", ours),
                           ("reference: bare WAL synchronous=FULL commits of a tiny row ", bare)):
        median, p99 = percentiles(timings)
        print(f"{label}: {1e6 / statistics.mean(timings):6,.0f}/s   p50 {median:4.0f} µs   p99 {p99:5.0f} µs")


def bench_list(folder: Path, rows: int, users: int, queries: int) -> None:
    conn = open_database(folder / "million.db")
    answers, outcome = json.dumps(ANSWERS), json.dumps(OUTCOME, ensure_ascii=False)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    with conn:  # the set-up is one bulk transaction; only the appends above are measured one commit each
        conn.executemany(
            "INSERT INTO decisions (time, channel, staff_id, staff_name, programme, flow, rulebook_edition, answers, "
            "outcome, result, warnings, sources, decided_on) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ((( start + timedelta(seconds=30 * n)).isoformat(timespec="seconds"), "telegram", str(n % users),
              f"Sagsbehandler {n % users}", "ungeloeftet", "switch", "ungeloeftet-2025.1", answers, outcome,
              "register", "[]", "[]", "2026-01-15") for n in range(rows)))
    print(f"built a log of {rows:,} rows from {users:,} users in {time.perf_counter() - started:.1f} s")
    from bot.desk.log import Desk
    from bot.chat.texts import Texts
    from flows.engine import load_rulebook

    desk = Desk(load_rulebook(), Texts(load_rulebook()))
    for label, user_of in (("by staff id", lambda n: str(n % users)),
                           ("by display name", lambda n: f"Sagsbehandler {n % users}")):
        timings, tables = [], []
        for n in range(queries):
            before = time.perf_counter_ns()
            found = log.find(conn, log.Filters(user=user_of(n * 7919)), limit=50)
            timings.append((time.perf_counter_ns() - before) / 1000)
            assert len(found) == 50 and found[0]["time"] > found[-1]["time"]
            if n % 20 == 0:
                before = time.perf_counter_ns()
                desk.table(found)
                tables.append((time.perf_counter_ns() - before) / 1000)
        median, p99 = percentiles(timings)
        print(f"last 50 decisions of one user ({label}) in {rows:,} rows: p50 {median:.0f} µs   p99 {p99:.0f} µs"
              f"   (+ formatting them as the `log list` table: p50 {percentiles(tables)[0]:.0f} µs)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=5_000)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--queries", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=ROOT) as folder:  # on the project's disk: real fsyncs
        bench_appends(Path(folder), args.appends)
        bench_list(Path(folder), args.rows, args.users, args.queries)


if __name__ == "__main__":
    main()
