"""The `ungebot` command line. Heavy imports happen inside each command, so a command loads only what it needs."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from bot.cli.common import Refused

COMMANDS = {
    "chat": "Start en dialog i terminalen (ingen token, ingen server).",
    "decide": "Besvar en situations spørgsmål uden dialog: ungebot decide FLOW --answer ID=TEKST ... [--json].",
    "flows": "Vis situationerne, botten kan hjælpe med: id og titel.",
    "diagram": "Tegn en situations spørgsmål som Mermaid-diagram.",
    "telegram": "Start Telegram-botten (kræver TELEGRAM_BOT_TOKEN).",
    "web": "Start webchatten bag kommunens login (--demo: lokalt, uden login).",
    "log list": "Bottens resultater fra loggen, nyeste først (--since, --until, --flow, --user, --warning, --with-replaced).",
    "log show": "Hele dialogen bag ét resultat, med hvorfor og datoernes udregning.",
    "log export": "Loggen som CSV (dansk Excel) eller JSON (--with-replaced tager erstattede resultater med).",
    "log stats": "Resultater pr. situation pr. uge, pr. slags og advarsler (--with-replaced).",
    "log replay": "Kør loggen gennem dagens regler; vis og tæl det, der ændrer sig.",
    "log purge": "Slet det, der er ældre end opbevaringstiden (UNGEBOT_KEEP_*_DAYS), eller resultater ældre end --older-than.",
    "review": "Gennemse loggen i Datasette på 127.0.0.1.",
    "star ask": "Lav, gem og send et spørgsmål til STAR ud fra en sag (--text, --yes).",
    "star send-queued": "Send alle spørgsmål til STAR, der venter, nu (også dem, der holder pause efter en fejl).",
    "star retry": "Sæt et spørgsmål, der ikke kunne sendes, i kø igen.",
    "star fetch-replies": "Hent STARs svar fra postkassen (UNGEBOT_IMAP_*) og knyt dem til spørgsmålene.",
    "star list": "Spørgsmålene til STAR, nyeste først (--status).",
    "star show": "Ét spørgsmål til STAR med mail og svar.",
    "star answer": "Registrér STARs svar på et spørgsmål (fra fil eller standard input).",
    "learn": "Lær registreringerne: lektioner, øvelsessager og en test (--seed giver alle de samme sager).",
    "learn stats": "Træningstal for supporten: rigtige svar pr. forløb og pr. spørgsmål.",
    "learn diagrams": "Tegn forløbene som billeder (SVG og PNG) med Graphviz.",
    "learn path": "Tegn vejen, en afgørelse fra loggen tog, fremhævet på forløbenes diagrammer.",
}


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per entry in COMMANDS."""
    parser = argparse.ArgumentParser(prog="ungebot", description="Registrering i Ungeløftet – IPS og Flere unge skal med.")
    commands = parser.add_subparsers(dest="command", metavar="KOMMANDO")
    commands.add_parser("chat", help=COMMANDS["chat"])
    decide = commands.add_parser("decide", help=COMMANDS["decide"])
    decide.add_argument("flow", help="situationens id, fx switch (se: ungebot flows)")
    decide.add_argument("--answer", "-a", action="append", default=[], metavar="ID=TEKST",
                        help="et svar, fx --answer new_start_date=1.2.2026 (kan gentages)")
    decide.add_argument("--json", action="store_true", help="skriv resultatet som JSON")
    commands.add_parser("flows", help=COMMANDS["flows"])
    diagram = commands.add_parser("diagram", help=COMMANDS["diagram"])
    diagram.add_argument("flow", help="situationens id")
    commands.add_parser("telegram", help=COMMANDS["telegram"])
    from bot.cli.web import add_parser as add_web_parser

    add_web_parser(commands, COMMANDS["web"])
    _log_parsers(commands)
    _star_parsers(commands)
    from bot.cli.learn import add_parser

    add_parser(commands)
    return parser


def _log_parsers(commands: Any) -> None:
    """The `log` and `review` sub-commands."""
    log_parser = commands.add_parser("log", help="Supportteamets log over bottens resultater: list, show, export, stats, replay, purge.")
    sub = log_parser.add_subparsers(dest="log_command", metavar="HANDLING", required=True)
    for name, help_text in (("list", "resultater, nyeste først"), ("export", "eksportér som CSV eller JSON")):
        parser = sub.add_parser(name, help=help_text)
        parser.add_argument("--since", help="fra og med dato, fx 1.11.2026")
        parser.add_argument("--until", help="til og med dato")
        parser.add_argument("--flow", help="kun denne situation, fx switch")
        parser.add_argument("--user", help="kun denne medarbejder (id eller navn)")
        parser.add_argument("--warning", help="kun resultater med denne advarsel, fx end_equals_start")
        parser.add_argument("--with-replaced", action="store_true",
                            help="tag også resultater med, der blev ændret bagefter (/tilbage, /ret)")
        if name == "list":
            parser.add_argument("--limit", default="50", help="højst så mange rækker (50)")
        else:
            parser.add_argument("--format", choices=("csv", "json"), default="csv")
            parser.add_argument("--output", help="filen der skrives (ellers skærmen)")
    sub.add_parser("show", help="hele dialogen bag ét resultat").add_argument("id")
    stats = sub.add_parser("stats", help="resultater pr. situation pr. uge, pr. slags, advarsler")
    stats.add_argument("--with-replaced", action="store_true", help="tag også erstattede resultater med")
    replay = sub.add_parser("replay", help="kør loggens svar gennem dagens regler og vis det, der ændrer sig")
    replay.add_argument("--flows", help="en anden mappe med reglerne som YAML (fx en ændring, der skal tjekkes)")
    purge = sub.add_parser("purge", help="slet det, der er ældre end opbevaringstiden")
    purge.add_argument("--older-than", metavar="DAGE", help="kun resultater, ældre end så mange dage")
    review = commands.add_parser("review", help="Gennemse loggen i Datasette på 127.0.0.1.")
    review.add_argument("--port", default="8001")


def _star_parsers(commands: Any) -> None:
    """The `star` sub-commands."""
    parser = commands.add_parser("star", help="Spørgsmål til STAR: ask, send-queued, retry, fetch-replies, list, show, answer.")
    sub = parser.add_subparsers(dest="star_command", metavar="HANDLING", required=True)
    ask = sub.add_parser("ask", help="lav, gem og send et spørgsmål til STAR ud fra en sag")
    ask.add_argument("flow", help="situationens id, fx early_pension")
    ask.add_argument("--answer", "-a", action="append", default=[], metavar="ID=TEKST", help="sagens svar indtil nu")
    ask.add_argument("--text", required=True, help="spørgsmålet med dine egne ord (ingen navne, ingen CPR-numre)")
    ask.add_argument("--yes", action="store_true", help="send uden at spørge")
    sub.add_parser("send-queued", help="send de spørgsmål, der venter (kræver UNGEBOT_SMTP_HOST)")
    listing = sub.add_parser("list", help="spørgsmålene, nyeste først")
    listing.add_argument("--status", choices=("draft", "queued", "sending", "sent", "handed_over", "failed", "answered"))
    sub.add_parser("retry", help="sæt et spørgsmål, der ikke kunne sendes, i kø igen").add_argument("id")
    sub.add_parser("fetch-replies", help="hent STARs svar fra postkassen (kræver UNGEBOT_IMAP_HOST)")
    sub.add_parser("show", help="ét spørgsmål med mail og svar").add_argument("id")
    answer = sub.add_parser("answer", help="registrér STARs svar (fra en fil eller standard input)")
    answer.add_argument("id")
    answer.add_argument("--file", help="filen med svaret (ellers læses standard input)")
    answer.add_argument("--by", help="hvem der registrerer svaret (ellers dit login)")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script."""
    args = build_parser().parse_args(argv)
    try:
        if os.environ.get("UNGEBOT_TODAY"):  # a bad pinned day is refused before anything runs
            from bot.chat.dialogue import current_day

            current_day()
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except Refused as refusal:
        print(str(refusal), file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the last guard: one Danish sentence, never a traceback (bot.cli.failure)
        from bot.cli.failure import explain_failure

        message, code = explain_failure(exc)
        print(message, file=sys.stderr)
        return code


def _run(args: argparse.Namespace) -> int:
    if args.command == "chat":
        from bot.channels.terminal import run_chat

        return run_chat()
    if args.command == "star":
        from bot.cli.star import run_star

        return run_star(args)
    if args.command in ("log", "review"):
        from bot.cli.log import run_log, run_review

        return run_log(args) if args.command == "log" else run_review(args)
    if args.command == "telegram":
        from bot.channels.telegram.app import run_telegram

        return run_telegram()
    if args.command == "learn":
        from bot.cli.learn import run_learn_command

        return run_learn_command(args)
    if args.command == "web":
        from bot.cli.web import run_web

        return run_web(args)
    if args.command == "decide":
        from bot.cli.decide import run_decide

        return run_decide(args.flow, args.answer, args.json)
    from bot.chat.programmes import enabled_catalogue

    rulebook = enabled_catalogue()
    if args.command == "flows":
        for flow in rulebook.listed():  # the enabled programmes' flows, each router first
            print(f"{flow.id:<28} {flow.title}")
        return 0
    if args.command == "diagram":
        if args.flow not in rulebook.flows:
            print(f"Ukendt situation »{args.flow}«. Kendte: {', '.join(rulebook.flows)}.", file=sys.stderr)
            return 2
        from bot.cli.diagram import mermaid

        sys.stdout.write(mermaid(rulebook.flow(args.flow)))
        return 0
    build_parser().print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
