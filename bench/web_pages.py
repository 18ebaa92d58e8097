"""Database pages an answer writes: one session answers whole cases through ASGI (as bench/web.py) against ungebot
web and against the bare handler, with checkpoints off, and the WAL's frame headers are read back: frames per answer,
and (ungebot) which table or index each page belongs to (SQLite's dbstat). Every page is written and fsynced in the
answer's commit, so on a disk each costs time. Prints; asserts nothing.

    .venv/bin/python bench/web_pages.py [--cases 20] [--dir /dev/shm]
"""

from __future__ import annotations

import argparse
import collections
import os
import sqlite3
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

import web_case
import web_asgi

ROOT = Path(__file__).resolve().parent.parent
HEADER, FRAME_HEADER, PAGE = 32, 24, 4096  # SQLite's WAL layout (4 KiB pages, as ungebot's databases use)


def frames(wal: Path) -> list[int]:
    """The page number of each frame in a WAL file."""
    data = wal.read_bytes()
    return [struct.unpack(">I", data[at:at + 4])[0]
            for at in range(HEADER, len(data) - FRAME_HEADER + 1, FRAME_HEADER + PAGE)]


def answered(app: Any, conn: sqlite3.Connection, wal: Path, cases: int) -> list[int]:
    """The pages written while one session answered `cases` cases (after one case to warm up)."""
    web_asgi.drive(app, 1, web_case.SCRIPT, web_case.field, (web_case.STEP, web_case.CSRF))
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    web_asgi.drive(app, 1, web_case.SCRIPT * cases, web_case.field, (web_case.STEP, web_case.CSRF))
    return frames(wal)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=20)
    parser.add_argument("--dir", help="where the databases go (default: the system's temporary directory)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ungebot-bench-pages-", dir=args.dir))
    os.environ.update(web_case.environment(folder, 1))
    sys.path.insert(0, str(ROOT))
    from bot.channels.web.app import build_app
    from bot.channels.web.settings import read_web_settings

    answers = len(web_case.SCRIPT) * args.cases
    app = build_app(read_web_settings())
    conn = app.state.web.chat.db
    ours = answered(app, conn, folder / "ungebot.db-wal", args.cases)
    owners = dict(conn.execute("SELECT pageno, name FROM dbstat").fetchall())
    bare = web_asgi.bare_app(str(folder / "bare.db"), web_case.SCRIPT)
    web_asgi.drive(bare, 1, web_case.SCRIPT, web_case.field, (web_case.STEP, web_case.CSRF))  # creates the database
    floor = answered(bare, sqlite3.connect(folder / "bare.db"), folder / "bare.db-wal", args.cases)
    print(f"WAL pages per answer ({answers} answers): ungebot web {len(ours) / answers:.2f}, "
          f"bare Starlette + one durable commit {len(floor) / answers:.2f}")
    for name, count in collections.Counter(owners.get(page, "(free list)") for page in ours).most_common():
        print(f"  {name:<40} {count / answers:.2f}")


if __name__ == "__main__":
    main()
