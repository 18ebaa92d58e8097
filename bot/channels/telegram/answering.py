"""Answering an update on Telegram: the turn and its reply committed in one row and one transaction, then sent (the
part of TelegramBot, bot/channels/telegram/app.py, that every handler ends in)."""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from datetime import date
from typing import Any

from telegram import Update

from bot.channels.telegram.receipts import Receipts
from bot.channels.telegram.send import Outgoing, Press, deliver
from bot.channels.telegram.ui import compose
from bot.chat.conversation import Conversation
from bot.chat.dialogue import DialogueState, Options, Turn, current_day
from bot.chat.texts import Texts
from bot.config import MailSettings
from bot.desk.star import StarDesk, attach_draft, delivery_replies
from bot.desk.star.sender import Sender
from storage import inbox
from storage.journal import Journal
from storage.records import Staff, update_dialogue, write_turn

STATE_CACHE = 10_000  # dialogues kept in memory between turns (each is also on disk)


class Answering:
    """The answer's commit and reply; TelegramBot provides what is declared here."""

    texts: Texts
    conversation: Conversation
    journal: Journal
    receipts: Receipts
    star: StarDesk
    sender: Sender
    mail: MailSettings
    _labels: dict[str, str]
    _states: OrderedDict[str, tuple[date, DialogueState, dict[str, Any], Options]]

    async def _answer(self, update: Update, staff: Staff, turn: Turn, before: dict[str, Any] | None,
                      press: Press | None = None, edit: bool = False, chosen: str | None = None) -> None:
        """Commit the turn and its reply in one row and one transaction, then send the reply; after a crash in
        between, a restart sends exactly that reply (see inbox.replay). A question confirmed for STAR is sent first,
        and its reply, which says what became of it, is composed after (and not kept). A `press` is acknowledged
        once the answer is committed, alongside the reply."""
        attach_draft(self.star, staff, turn)
        outgoing = self._outgoing(update, turn, edit, chosen) if turn.star_send is None else None
        seq = self.receipts.open() if outgoing is not None else None
        try:
            await self._commit(staff, turn, update.update_id, before, outgoing, seq)
            if press is not None:
                press.soon()
            if outgoing is None:
                await self._send_to_star(turn)
                outgoing = self._outgoing(update, turn, edit, chosen)
            await deliver(update.get_bot(), outgoing)
        finally:
            if seq is not None:
                self.receipts.close(seq)

    def _outgoing(self, update: Update, turn: Turn, edit: bool, chosen: str | None) -> Outgoing:
        text, markup = compose(turn, self._labels, chosen and self.texts.common("chosen", label=chosen))
        query, chat = update.callback_query, update.effective_chat
        assert chat is not None
        target = query.message.message_id if edit and query is not None and query.message is not None else None
        return Outgoing(chat.id, text, markup, target)

    async def _commit(self, staff: Staff, turn: Turn, update_id: int, before: dict[str, Any] | None,
                      outgoing: Outgoing | None, seq: int | None) -> None:
        """One durable write before anything is sent: the dialogue's row with the reply (number `seq`), the state
        if it changed, the decision if one was reached, and a question for STAR the caseworker confirmed."""
        state = turn.state.to_dict()
        changed = turn.decision is not None or before is None or state != before
        numbering = self.receipts.numbering_of(update_id)
        if changed:
            applied = turn.state
            applied.last_update = max(applied.last_update, update_id) if applied.numbering == numbering else update_id
            applied.numbering = numbering
            state["last_update"] = applied.last_update
            if numbering:
                state["numbering"] = numbering
            else:  # as to_dict writes it
                state.pop("numbering", None)
        decision = self.conversation.decision_record(turn)
        reply = inbox.compress(outgoing.to_json()) if outgoing is not None else None
        # Without a reply to keep, the update keeps its inbox row (a restart handles it again).
        row = self.receipts.claim(update_id) if outgoing is not None else False
        receipts, star = self.receipts, self.star
        kept_id = receipts.kept_id(update_id)  # none for an update of Telegram's older numbering (receipts.py)

        def write(conn: sqlite3.Connection) -> int | None:
            columns = {"reply": reply, "reply_update": kept_id, "reply_seq": seq, "sent_through": receipts.carry()}
            decision_id = None
            if changed or not update_dialogue(conn, staff, columns):
                decision_id = write_turn(conn, staff, state, decision, columns)
            if row:
                inbox.mark_replied(conn, [update_id])
            star.queue_with_answer(conn, turn.star_send)  # a confirmed question is queued with the confirmation
            return decision_id

        decision_id = await self.journal.durable(write, alone=self.receipts.alone(update_id))
        self.receipts.answered(update_id)
        if changed:  # the state now knows which logged decision is on screen, and has marked what it replaced
            if decision_id is not None:
                turn.state.decision_id = state["decision_id"] = decision_id
            turn.state.replaced.clear()
            state.pop("replaced", None)  # now as turn.state.to_dict() would make it
        shown = turn.replies[-1].options if turn.replies else ()
        self._states[staff.staff_id] = (current_day(), turn.state, state, shown)
        while len(self._states) > STATE_CACHE:
            self._states.popitem(last=False)

    async def _send_to_star(self, turn: Turn) -> None:
        """A confirmed question is queued (committed) for the background sender, which says when it is sent; the
        caseworker is told "sendes" at once and never waits for the mail server."""
        if turn.star_send is not None:
            delivery = self.star.submit(turn.star_send)
            self.sender.wake()
            turn.replies[:0] = delivery_replies(self.texts, delivery, self.mail.recipient, in_terminal=False)
