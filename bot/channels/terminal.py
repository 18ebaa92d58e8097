"""The terminal chat: the same dialogue as in Telegram, one question at a time, with numbered options."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from typing import TextIO

from bot.config import read_mail_settings
from bot.chat.conversation import Conversation
from bot.chat.dialogue import Reply, Turn, current_day
from bot.desk.star import StarDesk, attach_draft, delivery_replies
from bot.chat.programmes import enabled_catalogue
from bot.chat.texts import Texts, to_plain
from flows.privacy import contains_cpr
from storage.db import open_database
from bot.channels.staff import terminal_staff
from storage.records import Staff, load_dialogue, record_turn




def show(reply: Reply, out: TextIO) -> None:
    """Print one reply as plain text, options numbered."""
    out.write(to_plain(reply.text) + "\n")
    for number, (_, label) in enumerate(reply.options, start=1):
        out.write(f"  {number}. {label}\n")
    out.write("\n")


def run_chat(stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Run the dialogue until end of input; every answer is saved before its reply is printed."""
    stdin, out = stdin or sys.stdin, out or sys.stdout  # looked up now, so a redirected stream is the one read
    rulebook = enabled_catalogue()
    db = open_database()
    mail = read_mail_settings()
    desk = StarDesk(db, mail)
    texts = Texts(rulebook)
    conversation = Conversation(rulebook, texts, os.environ.get("UNGEBOT_MUNICIPALITY", ""), answers=desk,
                                recipient=mail.recipient)
    staff = terminal_staff()
    interactive = stdin.isatty() and out.isatty()
    stored = load_dialogue(db, staff)
    state = conversation.restore(stored, current_day())
    show(Reply(conversation.texts.common("welcome")), out)
    for reply in conversation.resume(state, current_day()):
        show(reply, out)
    while True:
        try:
            # input() drops the line break, so one is put back: "" then means end of input only, never Enter.
            line = input("> ") + "\n" if interactive else stdin.readline()
        except (EOFError, KeyboardInterrupt):
            line = ""
        if not line:  # end of input, Ctrl-D or Ctrl-C; an empty line (Enter by mistake) asks again
            out.write("\n")
            show(Reply(conversation.texts.common("goodbye")), out)
            return 0
        if not interactive:
            # A transcript shows what was typed, except a CPR number, which is never echoed.
            out.write("> [skjult: CPR-nummer]\n" if contains_cpr(line) else f"> {line.rstrip()}\n")
        turn = conversation.handle(state, line, current_day())
        attach_draft(desk, staff, turn)
        record(db, staff, conversation, turn)
        state = turn.state
        replies = list(turn.replies)
        if turn.star_send is not None:
            delivery = asyncio.run(desk.send(turn.star_send))
            replies[:0] = delivery_replies(texts, delivery, mail.recipient, in_terminal=True)
        for reply in replies:
            show(reply, out)
        out.flush()
        if turn.ends:
            return 0


def record(db: sqlite3.Connection, staff: Staff, conversation: Conversation, turn: Turn) -> None:
    """Commit the decision (if any), the marks of decisions it replaced and the new state in one transaction,
    before anything is shown; the state then knows which logged decision is on screen."""
    decision_id = record_turn(db, staff, turn.state.to_dict(), conversation.decision_record(turn))
    if decision_id is not None:
        turn.state.decision_id = decision_id
    turn.state.replaced.clear()
