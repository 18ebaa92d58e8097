"""`ungebot log …` and `ungebot review`: the support team's commands over the decision log."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import date
from pathlib import Path
from typing import Any


from bot.cli.common import Refused, whole_number
from bot.chat.dialogue import current_day
from bot.desk.log import Desk
from bot.chat.texts import Texts, to_plain
from flows.dates import parse_date
from bot.chat.programmes import enabled_catalogue
from flows.engine import WARNING_ORDER, Rulebook
from flows.errors import AnswerError
from storage import log
from storage.db import database_path, open_existing


MOST_ROWS = 10_000_000  # --limit: more rows than any log here will hold
MOST_DAYS = 36_525  # --older-than: a hundred years; dates before year 1 do not exist


def run_log(args: argparse.Namespace) -> int:
    """`ungebot log HANDLING`; bad input raises Refused (exit 2, see bot.cli.main)."""
    flows_dir = getattr(args, "flows", None)
    if flows_dir and not (Path(flows_dir) / "programme.yaml").is_file():
        raise Refused(f"--flows: {flows_dir} er ikke en mappe med forløb (der er ingen programme.yaml i den).")
    rulebook = Rulebook(Path(flows_dir)) if flows_dir else enabled_catalogue()
    texts = Texts(rulebook)
    desk = Desk(rulebook, texts)
    conn = open_existing()
    command = args.log_command
    if command == "list":
        limit = whole_number(args.limit, "--limit", most=MOST_ROWS)
        print(desk.table(log.find(conn, _filters(args, conn, rulebook, texts), limit)))
    elif command == "show":
        record = log.get(conn, whole_number(args.id, "id"))
        if record is None:
            raise Refused(to_plain(desk.text("no_such_decision", id=args.id)))
        print(to_plain(desk.show(record)))
    elif command == "export":
        records = log.find(conn, _filters(args, conn, rulebook, texts))
        _export(desk, records, args.format, args.output)
    elif command == "stats":
        print(desk.stats(log.stats(conn, with_replaced=args.with_replaced)))
    elif command == "replay":
        rows, summary = desk.replay(list(reversed(log.find(conn))))
        for row in rows:
            print(row + "\n")
        print(summary)
        return 1 if rows else 0
    elif command == "purge":
        _purge(desk, conn, args.older_than)
    return 0


# What each kind of row is called when purge says how many it deleted.
KIND_WORDS = {"decisions": "resultater", "dialogues": "åbne dialoger", "outbox": "mails i udbakken",
              "star": "spørgsmål til STAR", "drafts": "udkast", "faq": "svar fra STAR"}


def _purge(desk: Desk, conn: sqlite3.Connection, older_than: str | None) -> None:
    """Retention: decisions older than --older-than, or every kind of row by its UNGEBOT_KEEP_*_DAYS setting."""
    if older_than is not None:
        days = whole_number(older_than, "--older-than", most=MOST_DAYS)
        print(to_plain(desk.text("purged", count=log.purge(conn, days), days=days)))
        return
    from bot.config import ConfigError, read_retention
    from bot.desk.retention import purge_all

    try:
        keep = read_retention()
    except ConfigError as exc:
        raise Refused(str(exc)) from None
    counts = purge_all(conn, keep)
    for kind, words in KIND_WORDS.items():
        days = keep[kind]
        kept = f"ældre end {days} dage" if days is not None else "gemmes altid"
        print(f"{words}: {counts[kind]} slettet ({kept})" if kind in counts else f"{words}: {kept}")


def _day(text: str | None, name: str, texts: Texts) -> date | None:
    if text is None:
        return None
    try:
        return parse_date(text, current_day())
    except AnswerError as error:
        raise Refused(f"{name}: {to_plain(texts.error(error))}") from None


def _filters(args: argparse.Namespace, conn: sqlite3.Connection, rulebook: Rulebook, texts: Texts) -> log.Filters:
    since, until = _day(args.since, "--since", texts), _day(args.until, "--until", texts)
    if since and until and since > until:
        raise Refused("--since ligger efter --until.")
    logged_flows = {row[0] for row in conn.execute("SELECT DISTINCT flow FROM decisions")}
    if args.flow and args.flow not in rulebook.flows and args.flow not in logged_flows:
        raise Refused(f"Ukendt situation »{args.flow}«. Kendte: {', '.join(rulebook.flows)}.")
    if args.user and not log.user_known(conn, args.user):
        raise Refused(f"Loggen har ingen resultater fra medarbejderen »{args.user}«.")
    if args.warning and args.warning not in WARNING_ORDER:
        raise Refused(f"Ukendt advarsel »{args.warning}«. Kendte: {', '.join(WARNING_ORDER)}.")
    return log.Filters(since=since, until=until, flow=args.flow, user=args.user, warning=args.warning,
                       with_replaced=bool(getattr(args, "with_replaced", False)))


def _export(desk: Desk, records: list[dict[str, Any]], fmt: str, output: str | None) -> None:
    if output is None:
        (desk.export_csv if fmt == "csv" else desk.export_json)(records, sys.stdout)
        return
    target = Path(output)
    if not target.parent.is_dir():
        raise Refused(f"Mappen {target.parent} findes ikke.")
    with target.open("w", encoding="utf-8", newline="") as out:
        (desk.export_csv if fmt == "csv" else desk.export_json)(records, out)
    print(f"{len(records)} {'resultat' if len(records) == 1 else 'resultater'} skrevet til {target}.", file=sys.stderr)


def run_review(args: argparse.Namespace) -> int:
    """Serve the log with Datasette on 127.0.0.1 until stopped, for support staff who log in."""
    try:
        from bot.desk.review import Gate, serve
    except ImportError:
        print("Datasette er ikke installeret: pip install 'ungebot[review]' (make test installerer den).",
              file=sys.stderr)
        return 2
    from bot.config import read_values

    port = whole_number(args.port, "--port")
    db_path = database_path()
    conn = open_existing(db_path)
    values = read_values()
    header = values["UNGEBOT_REVIEW_PROXY_HEADER"].strip() or None
    proxies = frozenset(p.strip() for p in (values["UNGEBOT_REVIEW_TRUSTED_PROXIES"] or "127.0.0.1").split(",")
                        if p.strip())
    gate = Gate(proxy_header=header, trusted_proxies=proxies)

    def announce(link: str) -> None:
        print(f"Datasette kører på http://127.0.0.1:{port}/ – stop med Ctrl-C.\n"
              f"Log ind (kun dig; linket gælder, til du stopper): {link}", file=sys.stderr, flush=True)
        if header:
            print(f"Eller gennem proxyen på {', '.join(sorted(proxies))} med brugeren i headeren {header}.",
                  file=sys.stderr, flush=True)

    try:
        serve(db_path, conn, port, gate, announce)
    except KeyboardInterrupt:
        pass
    return 0
