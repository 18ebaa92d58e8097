"""STAR's replies matched by Message-ID: a tiny IMAP server on 127.0.0.1 (LOGIN, EXAMINE, SEARCH HEADER, FETCH),
`ungebot star fetch-replies`, the quoted question left out, a reply to something else ignored, the mailbox unchanged."""

from __future__ import annotations

import re
import socketserver
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from bot.cli.main import main
from bot.config import read_mail_settings
from bot.desk.star import StarDesk
from storage import outbox, star
from storage.db import open_database
from storage.records import Staff

from tests.loopback import Served

USER, PASSWORD = "ungebot@testkommune.dk", "imap-hemmelighed"


class FakeImap(socketserver.ThreadingTCPServer):
    """Just the IMAP4rev1 commands the matcher uses, over a list of stored messages (read-only)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, messages: list[bytes]) -> None:
        self.messages = messages
        self.commands: list[str] = []
        super().__init__(("127.0.0.1", 0), Session)


class Mailbox(Served):
    """The fake IMAP server, served while in a `with` block."""

    def __init__(self, messages: list[bytes]) -> None:
        self.server = FakeImap(messages)


class Session(socketserver.StreamRequestHandler):
    server: FakeImap

    def send(self, text: str | bytes) -> None:
        self.wfile.write(text.encode() if isinstance(text, str) else text)

    def handle(self) -> None:
        self.send("* OK fake IMAP ready\r\n")
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            tag, _, rest = line.partition(" ")
            command, _, args = rest.partition(" ")
            self.server.commands.append(command.upper())
            reply = getattr(self, f"do_{command.upper()}", None)
            if reply is None:
                self.send(f"{tag} BAD unknown\r\n")
            elif reply(tag, args) is False:
                return

    def do_CAPABILITY(self, tag: str, args: str) -> None:
        self.send(f"* CAPABILITY IMAP4rev1\r\n{tag} OK done\r\n")

    def do_LOGIN(self, tag: str, args: str) -> None:
        ok = args.split() == [USER, f'"{PASSWORD}"'] or args.split() == [USER, PASSWORD]
        self.send(f"{tag} OK logged in\r\n" if ok else f"{tag} NO wrong password\r\n")

    def do_EXAMINE(self, tag: str, args: str) -> None:
        self.send(f"* {len(self.server.messages)} EXISTS\r\n* FLAGS ()\r\n{tag} OK [READ-ONLY] done\r\n")

    def do_SEARCH(self, tag: str, args: str) -> None:
        match = re.fullmatch(r'HEADER (\S+) "(.*)"', args)
        assert match is not None, args
        header, value = match.group(1).lower(), match.group(2)
        hits = [str(number) for number, raw in enumerate(self.server.messages, start=1)
                if any(line.lower().startswith(header + ":") and value in line
                       for line in raw.decode("utf-8", "replace").split("\r\n\r\n")[0].splitlines())]
        self.send(f"* SEARCH {' '.join(hits)}\r\n{tag} OK done\r\n".replace("SEARCH \r", "SEARCH\r"))

    def do_FETCH(self, tag: str, args: str) -> None:
        raw = self.server.messages[int(args.split()[0]) - 1]
        self.send(f"* {args.split()[0]} FETCH (RFC822 {{{len(raw)}}}\r\n".encode() + raw + b")\r\n")
        self.send(f"{tag} OK done\r\n")

    def do_LOGOUT(self, tag: str, args: str) -> bool:
        self.send(f"* BYE\r\n{tag} OK bye\r\n")
        return False


def reply(to: str, text: str) -> bytes:
    message = EmailMessage()
    message["From"] = "star@star.dk"
    message["To"] = USER
    message["Subject"] = "SV: Spørgsmål om registrering"
    message["In-Reply-To"] = to
    message["References"] = to
    message.set_content(text)
    return bytes(message).replace(b"\n", b"\r\n")


@pytest.fixture
def questions(private_database: Path, tmp_path: Path) -> list[tuple[int, str]]:
    desk = StarDesk(open_database(private_database), read_mail_settings(environ={"UNGEBOT_OUTBOX": str(tmp_path)}))
    for number in range(2):
        draft = star.Draft(f"Emne {number}", "Krop", "Ord", "S", "leave", None, "ungeloeftet")
        desk.hand_over(desk.store_draft(Staff("cli", "u"), draft))
    return outbox.awaiting_reply(desk.conn)


@pytest.fixture
def imap(questions: list[tuple[int, str]], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeImap]:
    (first, first_id), _ = questions
    messages = [
        reply("<andet@star.dk>", "Et svar på noget helt andet."),
        reply(first_id, "Sæt slutdato dagen før barslen.\n\nVenlig hilsen\nSTAR\n\nDen 3. jan. 2026 skrev Ungebot:\n"
                        "> Kære STAR\n> Vi har et spørgsmål"),
    ]
    with Mailbox(messages) as mailbox:
        for key, value in {"UNGEBOT_IMAP_HOST": "127.0.0.1", "UNGEBOT_IMAP_PORT": str(mailbox.server.server_address[1]),
                           "UNGEBOT_IMAP_SSL": "0", "UNGEBOT_IMAP_USER": USER,
                           "UNGEBOT_IMAP_PASSWORD": PASSWORD}.items():
            monkeypatch.setenv(key, value)
        yield mailbox.server


def test_a_reply_to_a_questions_message_id_becomes_its_answer(imap: FakeImap, questions: list[tuple[int, str]],
                                                              private_database: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    (first, _), (second, _) = questions
    assert main(["star", "fetch-replies"]) == 0
    assert f"Spørgsmål {first} har fået svar" in capsys.readouterr().out
    conn = open_database(private_database)
    answered = star.get(conn, first)
    assert answered is not None and answered["status"] == "answered"
    assert answered["answer"] == "Sæt slutdato dagen før barslen.\n\nVenlig hilsen\nSTAR"  # without the quote
    assert star.get(conn, second)["status"] == "handed_over"  # type: ignore[index]
    assert "STORE" not in imap.commands and "EXAMINE" in imap.commands  # read only
    assert main(["star", "fetch-replies"]) == 0 and "0 nye svar." in capsys.readouterr().out


def test_without_imap_settings_it_says_so(private_database: Path, capsys: pytest.CaptureFixture[str],
                                          questions: Any) -> None:
    assert main(["star", "fetch-replies"]) == 2
    assert "UNGEBOT_IMAP_HOST er ikke sat" in capsys.readouterr().err
