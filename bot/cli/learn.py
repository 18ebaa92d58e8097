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
    if args.what == "path":
        return _draw_decision(args)
    seed = None
    if args.seed is not None:
        if not args.seed.isdigit():
            raise Refused(f"--seed skal være et helt tal, ikke »{args.seed}«.")
        seed = int(args.seed)
    from bot.channels.terminal_learn import run_learn

    return run_learn(seed, sys.stdin, sys.stdout)


def _draw_decision(args: argparse.Namespace) -> int:
    """`ungebot learn path ID`: the way a logged dialogue went, drawn highlighted on each flow it passed through."""
    from datetime import date
    from pathlib import Path

    from bot.chat.texts import Texts
    from bot.learn.diagrams import Labels, dot_available, draw_path
    from bot.learn.explain import decision_nodes
    from flows.engine import load_rulebook
    from storage import log as decision_log
    from storage.db import open_existing

    if not args.id or not args.id.isdigit():
        raise Refused("Skriv afgørelsens nummer, fx: ungebot learn path 12 (se ungebot log list).")
    if not dot_available():
        raise Refused("Graphviz' dot er ikke installeret. Kør make diagrams (installerer det med apt-get).")
    record = decision_log.get(open_existing(), int(args.id))
    if record is None:
        raise Refused(f"Der er ingen afgørelse nummer {args.id} i loggen.")
    rulebook = load_rulebook()
    if record.get("programme") != rulebook.programme.id:
        raise Refused("Stien kan kun tegnes for afgørelser i Ungeløftet.")
    labels = Labels(Texts(rulebook), rulebook)
    today = date.fromisoformat(record.get("decided_on") or record["time"][:10])
    target = Path(args.output or ".")
    target.mkdir(parents=True, exist_ok=True)
    for flow_id, nodes in decision_nodes(rulebook, record["answers"], today).items():
        drawn = draw_path(rulebook.flow(flow_id), labels, tuple(nodes), args.format)
        assert drawn is not None
        out = target / f"afgoerelse-{args.id}-{flow_id}.{args.format}"
        out.write_bytes(drawn.read_bytes())
        print(out)
    return 0


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The `learn` sub-command."""
    parser = commands.add_parser("learn", help="Lær registreringerne: lektioner, øvelsessager og en test.")
    parser.add_argument("what", nargs="?", choices=("stats", "diagrams", "path"),
                        help="stats: træningstal for supporten; diagrams: tegn forløbene som billeder; "
                             "path ID: tegn vejen en afgørelse tog")
    parser.add_argument("id", nargs="?", help="afgørelsens nummer (til path)")
    parser.add_argument("--format", choices=("svg", "png"), default="svg", help="billedformat (til path)")
    parser.add_argument("--output", help="mappen billederne skrives i (til path; ellers her)")
    parser.add_argument("--seed", help="samme øvelsessager for alle, der bruger samme tal")
