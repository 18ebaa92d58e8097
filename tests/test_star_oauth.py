"""Exchange Online without a password: MSAL's client-credentials flow against a fake Microsoft Entra token endpoint
(HTTPS on 127.0.0.1, a certificate made for the test), then SMTP AUTH XOAUTH2 with that token against aiosmtpd; and
the secrets never show in a repr, a log, an error or the database."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import json
import logging
import ssl
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bot.config import read_mail_settings, read_settings
from bot.desk.star import StarDesk
from storage import star
from storage.db import open_database
from storage.records import Staff

from tests.loopback import Served
from tests.test_star import free_port

TENANT, CLIENT, SECRET = "kommune-tenant", "ungebot-app", "hemmelig-klient-vaerdi-42"
TOKEN = "eyJ0eXAiOiJKV1QiLCJmYWtlIjoidG9rZW4ifQ.test"
MAILBOX = "ungebot@testkommune.dk"


def certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the test's own certificate authority)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "entra.pem", directory / "entra.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class FakeEntra(Served):
    """The two endpoints MSAL uses for client credentials: the tenant's OpenID configuration and its token."""

    def __init__(self, directory: Path) -> None:
        self.cert, key = certificate(directory)
        self.requests: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path.startswith(f"/{TENANT}/v2.0/.well-known/openid-configuration"):
                    base = f"{fake.base}/{TENANT}"
                    self._json(200, {"authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                     "token_endpoint": f"{base}/oauth2/v2.0/token", "issuer": f"{base}/v2.0"})
                else:
                    self._json(404, {"error": "not_found"})

            def do_POST(self) -> None:
                form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
                fake.requests.append(form)
                if form.get("client_secret") != SECRET:
                    self._json(401, {"error": "invalid_client",
                                     "error_description": "AADSTS7000215: Invalid client secret provided."})
                    return
                self._json(200, {"token_type": "Bearer", "expires_in": 3599, "access_token": TOKEN})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.base = f"https://127.0.0.1:{self.server.server_address[1]}"


class OAuthInbox:
    """An SMTP server that takes only XOAUTH2 with the expected mailbox and token."""

    def __init__(self) -> None:
        self.logins: list[str] = []
        self.messages: list[bytes] = []

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        response = base64.b64decode(args[1]).decode() if len(args) > 1 else ""
        if response == f"user={MAILBOX}\x01auth=Bearer {TOKEN}\x01\x01":
            self.logins.append(MAILBOX)
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message="535 5.7.3 Authentication unsuccessful")

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if not session.authenticated:
            return "530 5.7.57 Client not authenticated to send mail"
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content)
        return "250 OK"


@pytest.fixture
def entra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeEntra]:
    with FakeEntra(tmp_path) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(fake.cert))  # MSAL's requests trusts the test's certificate
        yield fake


@pytest.fixture
def oauth_smtp(entra: FakeEntra, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OAuthInbox]:
    inbox, port = OAuthInbox(), free_port()
    for key, value in {"UNGEBOT_SMTP_HOST": "127.0.0.1", "UNGEBOT_SMTP_PORT": str(port), "UNGEBOT_SMTP_FROM": MAILBOX,
                       "UNGEBOT_SMTP_USER": MAILBOX, "UNGEBOT_OAUTH_TENANT_ID": TENANT,
                       "UNGEBOT_OAUTH_CLIENT_ID": CLIENT, "UNGEBOT_OAUTH_CLIENT_SECRET": SECRET,
                       "UNGEBOT_OAUTH_AUTHORITY": entra.base, "UNGEBOT_OUTBOX": str(tmp_path / "outbox")}.items():
        monkeypatch.setenv(key, value)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, auth_require_tls=False)
    controller.start()
    yield inbox
    controller.stop()


def ask(path: Path) -> tuple[StarDesk, int]:
    desk = StarDesk(open_database(path), read_mail_settings())
    draft = star.Draft("Emne", "Kære STAR\n\nEt spørgsmål.", "Ord", "Situation", "course_ends", None, "ungeloeftet")
    return desk, desk.store_draft(Staff("telegram", "111"), draft)


def test_client_credentials_token_then_xoauth2(oauth_smtp: OAuthInbox, entra: FakeEntra, private_database: Path) -> None:
    desk, question = ask(private_database)
    delivery = asyncio.run(desk.send(question))
    assert delivery.status == "sent", delivery.error
    (form,) = entra.requests  # one token request, the client-credentials grant for Exchange Online's scope
    assert form["grant_type"] == "client_credentials" and form["client_id"] == CLIENT
    assert form["scope"] == "https://outlook.office365.com/.default"
    assert oauth_smtp.logins == [MAILBOX] and len(oauth_smtp.messages) == 1


def test_a_refused_secret_is_reported_without_the_secret(oauth_smtp: OAuthInbox, entra: FakeEntra,
                                                         private_database: Path, monkeypatch: pytest.MonkeyPatch,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("UNGEBOT_OAUTH_CLIENT_SECRET", "forkert-" + SECRET)
    caplog.set_level(logging.DEBUG)
    desk, question = ask(private_database)
    delivery = asyncio.run(desk.send(question))
    assert delivery.status == "queued" and "invalid_client" in (delivery.error or "")
    assert oauth_smtp.messages == []
    leaks = [repr(read_mail_settings()), repr(desk), repr(desk.transport), repr(desk.transport.tokens),
             delivery.error or "", caplog.text, str(star.get(desk.conn, question))]
    assert not [text for text in leaks if SECRET in text]
    desk.conn.close()
    for path in private_database.parent.glob("ungebot.db*"):
        assert SECRET.encode() not in path.read_bytes(), path


def test_secrets_never_in_repr(tmp_path: Path) -> None:
    settings = read_settings(tmp_path / "none.toml", {"TELEGRAM_BOT_TOKEN": "123456:AA-telegram-hemmelighed"})
    mail = read_mail_settings(tmp_path / "none.toml", {
        "UNGEBOT_SMTP_HOST": "smtp.example", "UNGEBOT_SMTP_FROM": "a@b.dk", "UNGEBOT_SMTP_USER": "a@b.dk",
        "UNGEBOT_SMTP_PASSWORD": "smtp-hemmelighed", "UNGEBOT_OAUTH_TENANT_ID": "t", "UNGEBOT_OAUTH_CLIENT_ID": "c",
        "UNGEBOT_OAUTH_CLIENT_SECRET": "oauth-hemmelighed"})
    shown = repr(settings) + str(settings) + repr(mail) + str(mail)
    assert "hemmelighed" not in shown and "smtp.example" in shown
