"""One SMTP attempt for a stored e-mail: STARTTLS, then a password or an OAuth token (XOAUTH2), then the bytes."""

from __future__ import annotations

import smtplib
import ssl

from bot.config import MailSettings
from bot.desk.star.oauth import TokenError, TokenSource, xoauth2

TIMEOUT = 30  # seconds per socket operation; well under the claim timeout


class Transport:
    """Hands stored e-mails to the configured SMTP server. No database access: it runs in a worker thread."""

    def __init__(self, mail: MailSettings) -> None:
        self.mail = mail
        self.tokens = TokenSource(mail.oauth) if mail.oauth is not None else None

    def __repr__(self) -> str:
        return f"Transport(host={self.mail.host!r}, port={self.mail.port!r}, oauth={self.tokens is not None})"

    def send(self, sender: str, recipient: str, message: bytes) -> None:
        """Send, or raise what went wrong."""
        assert self.mail.host is not None
        with smtplib.SMTP(self.mail.host, self.mail.port, timeout=TIMEOUT) as client:
            if self.mail.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.tokens is not None:
                token = self.tokens.token()
                client.ehlo_or_helo_if_needed()
                # On a refused token the server sends a 334 challenge (JSON); the empty reply ends the exchange.
                client.auth("XOAUTH2", lambda challenge=None: "" if challenge else xoauth2(self.mail.user or "", token))
            elif self.mail.user:
                client.login(self.mail.user, self.mail.password or "")
            client.sendmail(sender, [recipient], message)

    def attempt(self, sender: str, recipient: str, message: bytes) -> str | None:
        """One attempt: None when the server took it, else what went wrong, in a line (never a secret)."""
        try:
            self.send(sender, recipient, message)
        except smtplib.SMTPResponseException as error:
            return f"{type(error).__name__}: {error.smtp_code} {_text(error.smtp_error)}"
        except (OSError, smtplib.SMTPException, TokenError) as error:
            return f"{type(error).__name__}: {error}"
        return None


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:300]
