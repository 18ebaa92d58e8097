"""`ungebot learn`: the onboarding course in the terminal; `learn stats` for the support desk; `learn diagrams`
draws the flows as pictures."""

from __future__ import annotations

import argparse
import sys

from bot.cli.common import Refused


def run_learn_command(args: argparse.Namespace) -> int:
    """Dispatch `ungebot learn [stats|diagrams] [--seed N]`."""
    if args.what == "stats":
        from bot.learn.stats import stats_text
        from flows.engine import load_rulebook
        from storage.db import open_existing

        print(stats_text(open_existing(), load_rulebook()))
        return 0
    if args.what == "diagrams":
        from bot.chat.texts import Texts
        from bot.learn.diagrams import Labels, dot_available, write_pictures
        from flows.engine import load_rulebook

        if not dot_available():
            raise Refused("Graphviz' dot er ikke installeret. Kør make diagrams (installerer det med apt-get).")
        rulebook = load_rulebook()
        for path in write_pictures(rulebook, Labels(Texts(rulebook), rulebook)):
            print(path)
        return 0
    seed = None
    if args.seed is not None:
        if not args.seed.isdigit():
            raise Refused(f"--seed skal være et helt tal, ikke »{args.seed}«.")
        seed = int(args.seed)
    from bot.channels.terminal_learn import run_learn

    return run_learn(seed, sys.stdin, sys.stdout)


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `learn` sub-command."""
    parser = commands.add_parser("learn", help="Lær registreringerne: lektioner, øvelsessager og en test.")
    parser.add_argument("what", nargs="?", choices=("stats", "diagrams"),
                        help="stats: træningstal for supporten; diagrams: tegn forløbene som billeder")
    parser.add_argument("--seed", help="samme øvelsessager for alle, der bruger samme tal")
