"""`ungebot learn` in the terminal: the learning session with numbered choices; dates are typed as in the chat."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.chat.texts import Texts, to_plain
from bot.channels.staff import terminal_staff
from bot.learn.screens import Screen
from bot.learn.trainer import Trainer
from flows.engine import load_rulebook
from flows.privacy import contains_cpr
from storage.db import open_database

_QUIT = {"/slut", "/quit", "/exit", "q"}


def show(screen: Screen, out: TextIO, trainer: Trainer | None = None) -> None:
    """Print one screen as plain text, options numbered, diagrams by file."""
    out.write(to_plain(screen.text) + "\n")
    for number, (_, label) in enumerate(screen.options, start=1):
        out.write(f"  {number}. {label}\n")
    if screen.diagram and trainer is not None and (picture := trainer.picture(screen.diagram, fmt="svg")):
        out.write(f"  (Diagram: {picture})\n")
    for flow, nodes in screen.path if trainer is not None else ():
        drawn = trainer.picture(flow, nodes, "svg")
        if drawn is not None:
            out.write(f"  (Vejen gennem »{flow}« er tegnet her: {drawn})\n")
    out.write("\n")


def run_learn(seed: int | None = None, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """Run a learning session until end of input; each answer is saved before the next screen is shown."""
    rulebook = load_rulebook()
    trainer = Trainer(rulebook, Texts(rulebook), open_database())
    staff = terminal_staff()
    interactive = stdin.isatty() and out.isatty()
    for screen in trainer.open(staff, seed):
        show(screen, out, trainer)
    while True:
        try:
            line = input("> ") if interactive else stdin.readline()
        except (EOFError, KeyboardInterrupt):
            line = ""
        if not line or line.strip().lower() in _QUIT:
            out.write("Farvel – din fremgang er gemt.\n")
            return 0
        if not interactive:
            out.write("> [skjult: CPR-nummer]\n" if contains_cpr(line) else f"> {line.rstrip()}\n")
        if not line.strip():
            continue
        if contains_cpr(line):
            out.write("Skriv aldrig et CPR-nummer her. Jeg har ikke gemt det.\n\n")
            continue
        text = line.strip()
        screens = trainer.press(staff, "menu") if text.lower() in ("/menu", "menu") else trainer.type(staff, text)
        for screen in screens:
            show(screen, out, trainer)
        out.flush()
