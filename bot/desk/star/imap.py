"""STAR's replies matched automatically (optional): a reply whose In-Reply-To or References names a question's
Message-ID is recorded as that question's answer. The mailbox is only read (EXAMINE); nothing in it is changed."""

from __future__ import annotations

import asyncio
import email
import email.policy
import imaplib
import logging
import re
import sqlite3
from email.message import EmailMessage

from bot.config import ImapSettings, OAuthSettings
from bot.desk.star.oauth import TokenError, TokenSource, xoauth2
from storage import outbox, star

log = logging.getLogger("ungebot.star")
ANSWERED_BY = "STAR (svar matchet automatisk)"
TIMEOUT = 30
# Where the quoted question starts in a reply (Outlook, Gmail and Apple Mail, in Danish and English).
_QUOTE_START = re.compile(r"^(-{2,}\s*(Original Message|Oprindelig meddelelse)|(Fra|From|Sendt|Sent):\s|"
                          r"(Den|On) .+\b(skrev|wrote)\b.*:$)", re.IGNORECASE)


def reply_text(message: EmailMessage) -> str:
    """The reply's own words: its plain-text body without the quoted question."""
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    lines = []
    for line in str(text).splitlines():
        if _QUOTE_START.match(line.strip()):
            break
        if not line.startswith(">"):
            lines.append(line.rstrip())
    return "\n".join(lines).strip()[:4000]


class ReplyMatcher:
    """Looks in the mailbox for replies to the questions that went out and records them."""

    def __init__(self, conn: sqlite3.Connection, settings: ImapSettings, oauth: OAuthSettings | None = None) -> None:
        self.conn, self.settings = conn, settings
        self.tokens = TokenSource(oauth) if oauth is not None and settings.password is None else None

    def __repr__(self) -> str:
        return f"ReplyMatcher(host={self.settings.host!r}, user={self.settings.user!r})"

    def _connect(self) -> imaplib.IMAP4:
        cls = imaplib.IMAP4_SSL if self.settings.ssl else imaplib.IMAP4
        client = cls(self.settings.host, self.settings.port, timeout=TIMEOUT)
        if self.tokens is not None:
            token = self.tokens.token()
            client.authenticate("XOAUTH2", lambda _: xoauth2(self.settings.user, token).encode())
        else:
            client.login(self.settings.user, self.settings.password or "")
        return client

    def find(self, wanted: list[tuple[int, str]]) -> list[tuple[int, str]]:
        """(question id, reply text) for each question with a reply (blocking: run it off the event loop)."""
        found = []
        client = self._connect()
        try:
            client.select(self.settings.folder, readonly=True)
            for question_id, message_id in wanted:
                for header in ("In-Reply-To", "References"):
                    _, data = client.search(None, "HEADER", header, f'"{message_id}"')
                    numbers = data[0].split() if data and data[0] else []
                    if numbers:
                        _, parts = client.fetch(numbers[0].decode(), "(RFC822)")
                        raw = next(part[1] for part in parts if isinstance(part, tuple))
                        message = email.message_from_bytes(raw, policy=email.policy.default)
                        text = reply_text(message)  # type: ignore[arg-type]
                        if text:
                            found.append((question_id, text))
                        break
        finally:
            try:
                client.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
        return found

    async def run_once(self) -> list[int]:
        """Record every reply found; the ids of the questions answered."""
        wanted = outbox.awaiting_reply(self.conn)
        if not wanted:
            return []
        try:
            found = await asyncio.to_thread(self.find, wanted)
        except (OSError, imaplib.IMAP4.error, TokenError) as exc:
            log.warning("reading STAR's replies failed: %s", type(exc).__name__)
            return []
        for question_id, text in found:
            star.record_answer(self.conn, question_id, text, ANSWERED_BY)
        return [question_id for question_id, _ in found]

    async def run(self, every: float = 300) -> None:
        """Until cancelled: look for replies every few minutes."""
        while True:
            await self.run_once()
            await asyncio.sleep(every)
