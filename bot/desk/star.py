"""Questions for STAR, end to end for every channel: store the draft, queue it on confirmation, send it by SMTP
(or hand it over as a mailto: link and an .eml file), retry what is queued, and look up STAR's earlier answers."""

from __future__ import annotations

import asyncio
import smtplib
import sqlite3
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bot.config import MailSettings
from bot.chat.dialogue import Reply, Turn
from bot.chat.texts import Texts
from storage import star
from storage.records import Staff


@dataclass(frozen=True)
class Delivery:
    """What became of a confirmed question: sent, still queued (with the error), or handed over (mailto)."""

    question_id: int
    status: str
    via: str | None
    error: str | None = None
    mailto: str | None = None
    eml_path: Path | None = None
    attempts: int = 0


def mailto_link(recipient: str, subject: str, body: str) -> str:
    """A mailto: link with subject and body filled in (RFC 6068: UTF-8, percent-encoded, CRLF line breaks)."""
    return (f"mailto:{recipient}?subject={quote(subject, safe='')}"
            f"&body={quote(body.replace(chr(10), chr(13) + chr(10)), safe='')}")


class StarDesk:
    """The questions for STAR of one database and one mail set-up."""

    def __init__(self, conn: sqlite3.Connection, mail: MailSettings) -> None:
        self.conn, self.mail = conn, mail

    # -- storing ---------------------------------------------------------------------------------------------------
    def store_draft(self, staff: Staff, draft: star.Draft) -> int:
        """Store the draft before it is shown (committed); its id."""
        return star.store_draft(self.conn, staff, draft, self.mail.recipient)

    def message(self, question: dict[str, Any]) -> EmailMessage:
        """The e-mail for a stored question, UTF-8 plain text."""
        message = EmailMessage()
        message["From"] = self.mail.sender
        message["To"] = question["recipient"] or self.mail.recipient
        message["Subject"] = question["subject"]
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=self.mail.sender.partition("@")[2] or "localhost")
        message["X-Ungebot-Question"] = str(question["id"])
        message.set_content(question["body"], charset="utf-8")
        return message

    def save_eml(self, question_id: int, message: EmailMessage) -> Path:
        """Keep a copy of the e-mail as an .eml file in the outbox folder."""
        self.mail.outbox.mkdir(parents=True, exist_ok=True)
        path = self.mail.outbox / f"star-spoergsmaal-{question_id}.eml"
        path.write_bytes(bytes(message))
        return path

    # -- sending -----------------------------------------------------------------------------------------------------
    def send_message(self, message: EmailMessage) -> None:
        """Hand the e-mail to the SMTP server (blocking; no database access, so it may run in a thread)."""
        assert self.mail.host is not None
        with smtplib.SMTP(self.mail.host, self.mail.port, timeout=15) as client:
            if self.mail.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.mail.user:
                client.login(self.mail.user, self.mail.password or "")
            client.send_message(message)

    def confirm(self, question_id: int) -> tuple[EmailMessage | None, Delivery | None]:
        """The caseworker said send: queue the question (committed). Without SMTP it is handed over at once
        (the Delivery); with SMTP the message to send is returned, and record() is called with the result."""
        question = star.get(self.conn, question_id)
        if question is None:
            raise KeyError(question_id)
        star.queue(self.conn, question_id)
        message = self.message(question)
        if self.mail.smtp:
            return message, None
        path = self.save_eml(question_id, message)
        star.mark_sent(self.conn, question_id, via="mailto", eml_path=str(path))
        return None, Delivery(question_id, "sent", "mailto", eml_path=path,
                              mailto=mailto_link(question["recipient"], question["subject"], question["body"]))

    def record(self, question_id: int, message: EmailMessage, error: Exception | None) -> Delivery:
        """Record an SMTP attempt: sent, or still queued with the error (and an .eml copy to fall back on)."""
        if error is None:
            star.mark_sent(self.conn, question_id, via="smtp")
            return Delivery(question_id, "sent", "smtp")
        path = self.save_eml(question_id, message)
        text = f"{type(error).__name__}: {error}"
        star.mark_failed(self.conn, question_id, text, eml_path=str(path))
        attempts = (star.get(self.conn, question_id) or {}).get("attempts", 1)
        return Delivery(question_id, "queued", None, error=text, eml_path=path, attempts=attempts)

    async def send(self, question_id: int) -> Delivery:
        """Confirm and deliver. Only the SMTP attempt leaves the event loop (a thread), so all database work stays
        on the caller's thread; the terminal and the command line run it with asyncio.run."""
        message, delivery = self.confirm(question_id)
        if delivery is not None:
            return delivery
        assert message is not None
        return self.record(question_id, message, await asyncio.to_thread(self.attempt, message))

    def attempt(self, message: EmailMessage) -> Exception | None:
        """One SMTP attempt (no database access): None when it went through, else the error."""
        try:
            self.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            return error
        return None

    async def send_queued(self) -> list[Delivery]:
        """Try every queued question again, oldest first."""
        deliveries = []
        for question in star.queued(self.conn):
            message = self.message(question)
            deliveries.append(self.record(question["id"], message, await asyncio.to_thread(self.attempt, message)))
        return deliveries

    # -- STAR's answers ----------------------------------------------------------------------------------------------
    def for_gap(self, gap: str) -> dict[str, Any] | None:
        """STAR's newest answer about this gap in the guide."""
        return star.answered_for_gap(self.conn, gap)

    def search(self, words: str) -> list[dict[str, Any]]:
        """Answered questions matching the words."""
        return star.search(self.conn, words)


def attach_draft(desk: StarDesk, staff: Staff, turn: Turn) -> None:
    """Store a drafted question before it is shown, and remember its id in the dialogue's pending step."""
    if turn.star_draft is not None and turn.state.pending is not None:
        turn.state.pending["question"] = str(desk.store_draft(staff, turn.star_draft))


def delivery_replies(texts: Texts, delivery: Delivery, recipient: str, in_terminal: bool) -> list[Reply]:
    """Tell the caseworker what became of the question: sent, queued for another try, or handed over. In the
    terminal a handed-over question comes with its mailto: link and the place of the .eml copy."""
    if delivery.status == "sent" and delivery.via == "smtp":
        replies = [Reply(texts.common("star_sent", id=delivery.question_id, to=recipient))]
    elif delivery.status == "queued":
        replies = [Reply(texts.common("star_queued", id=delivery.question_id, attempts=delivery.attempts))]
    else:
        replies = [Reply(texts.common("star_handed_over", id=delivery.question_id, to=recipient,
                                      link=delivery.mailto if in_terminal else None))]
    if in_terminal and delivery.eml_path:
        replies.append(Reply(texts.common("star_copy_saved", path=str(delivery.eml_path))))
    return replies
