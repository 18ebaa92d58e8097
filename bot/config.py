"""Settings for the Telegram bot: environment variables, or the same keys in ungebot.toml (the environment wins)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

KEYS = ("TELEGRAM_BOT_TOKEN", "UNGEBOT_TELEGRAM_API_URL", "UNGEBOT_ALLOWED_USERS", "UNGEBOT_SUPPORT_USERS",
        "UNGEBOT_DB", "UNGEBOT_MUNICIPALITY", "UNGEBOT_SMTP_HOST", "UNGEBOT_SMTP_PORT", "UNGEBOT_SMTP_USER",
        "UNGEBOT_SMTP_PASSWORD", "UNGEBOT_SMTP_FROM", "UNGEBOT_SMTP_STARTTLS", "UNGEBOT_STAR_EMAIL", "UNGEBOT_OUTBOX",
        "UNGEBOT_STAR_RETRY_SECONDS", "UNGEBOT_STAR_MAX_ATTEMPTS", "UNGEBOT_STAR_CLAIM_TIMEOUT",
        "UNGEBOT_OAUTH_TENANT_ID", "UNGEBOT_OAUTH_CLIENT_ID", "UNGEBOT_OAUTH_CLIENT_SECRET", "UNGEBOT_OAUTH_CERT_FILE",
        "UNGEBOT_OAUTH_CERT_THUMBPRINT", "UNGEBOT_OAUTH_AUTHORITY", "UNGEBOT_OAUTH_SCOPE",
        "UNGEBOT_KEEP_DECISIONS_DAYS", "UNGEBOT_KEEP_DIALOGUES_DAYS", "UNGEBOT_KEEP_STAR_DAYS", "UNGEBOT_KEEP_OUTBOX_DAYS",
        "UNGEBOT_KEEP_FAQ_DAYS", "UNGEBOT_KEEP_DRAFTS_DAYS",
        "UNGEBOT_REVIEW_PROXY_HEADER", "UNGEBOT_REVIEW_TRUSTED_PROXIES", "UNGEBOT_PROGRAMMES",
        "UNGEBOT_IMAP_HOST", "UNGEBOT_IMAP_PORT", "UNGEBOT_IMAP_SSL", "UNGEBOT_IMAP_USER", "UNGEBOT_IMAP_PASSWORD",
        "UNGEBOT_IMAP_FOLDER")
# Days each kind of row is kept (None: kept until deleted by hand); each has its UNGEBOT_KEEP_*_DAYS setting.
RETENTION = {"decisions": 1825, "dialogues": 90, "star": 730, "outbox": 90, "faq": None, "drafts": 14}
STAR_ADDRESS = "star@star.dk"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """What the Telegram bot needs to run."""

    token: str = field(repr=False)
    api_url: str | None
    allowed_users: frozenset[int]
    support_users: frozenset[int]
    database: Path | None
    municipality: str

    def may_use(self, user_id: int) -> bool:
        """Only caseworkers and support staff on the lists get in."""
        return user_id in self.allowed_users or user_id in self.support_users


def _user_ids(key: str, raw: str) -> frozenset[int]:
    ids = set()
    for part in raw.replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if not (part.lstrip("-").isascii() and part.lstrip("-").isdigit() and len(part) <= 20):
            raise ConfigError(f"{key}: »{part}« er ikke et Telegram-bruger-id (kun tal, adskilt af komma).")
        ids.add(int(part))
    return frozenset(ids)


@dataclass(frozen=True)
class OAuthSettings:
    """Exchange Online without a password: an app registration's client-credentials token for SMTP (XOAUTH2)."""

    tenant_id: str
    client_id: str
    client_secret: str | None = field(default=None, repr=False)
    cert_file: Path | None = None
    cert_thumbprint: str | None = None
    authority: str = "https://login.microsoftonline.com"
    scope: str = "https://outlook.office365.com/.default"


@dataclass(frozen=True)
class MailSettings:
    """How questions reach STAR: by SMTP when a host is set, otherwise as a mailto: link and a saved .eml file."""

    host: str | None
    port: int
    user: str | None
    password: str | None = field(repr=False)
    sender: str
    starttls: bool
    recipient: str
    outbox: Path
    retry_seconds: int
    max_attempts: int = 10
    claim_timeout: int = 600
    oauth: OAuthSettings | None = None

    @property
    def smtp(self) -> bool:
        """True when questions are sent by SMTP."""
        return self.host is not None


def read_values(path: Path | None = None, environ: dict[str, str] | None = None) -> dict[str, str]:
    """Every known key from ungebot.toml (if present) and the environment, the environment winning."""
    environ = dict(os.environ if environ is None else environ)
    file_values: dict[str, str] = {}
    toml_path = path or Path(environ.get("UNGEBOT_CONFIG", "ungebot.toml"))
    if toml_path.is_file():
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml_path}: kan ikke læses som TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{toml_path}: kan ikke læses som TOML: filen er ikke UTF-8.") from None
        except OSError as exc:
            raise ConfigError(f"{toml_path}: kan ikke læses (fejl {exc.errno}).") from None
        unknown = set(data) - set(KEYS)
        if unknown:
            raise ConfigError(f"{toml_path}: ukendte nøgler {', '.join(sorted(unknown))}; kendte: {', '.join(KEYS)}")
        file_values = {key: ",".join(map(str, value)) if isinstance(value, list) else str(value)
                       for key, value in data.items()}
    return {key: environ.get(key) or file_values.get(key, "") for key in KEYS}


def read_mail_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> MailSettings:
    """Mail settings; ConfigError when they are incomplete or malformed."""
    values = {key: value.strip() for key, value in read_values(path, environ).items()}
    host = values["UNGEBOT_SMTP_HOST"] or None
    starttls = values["UNGEBOT_SMTP_STARTTLS"].lower() in ("1", "true", "ja", "yes", "on")
    port_text = values["UNGEBOT_SMTP_PORT"] or ("587" if starttls else "25")
    numbers = {key: _whole(key, values[key] or default) for key, default in (
        ("UNGEBOT_SMTP_PORT", port_text), ("UNGEBOT_STAR_RETRY_SECONDS", "300"), ("UNGEBOT_STAR_MAX_ATTEMPTS", "10"),
        ("UNGEBOT_STAR_CLAIM_TIMEOUT", "600"))}
    if host and not values["UNGEBOT_SMTP_FROM"]:
        raise ConfigError("UNGEBOT_SMTP_FROM mangler: afsenderadressen på mails til STAR (fx ungebot@kommune.dk).")
    database = Path(values["UNGEBOT_DB"]) if values["UNGEBOT_DB"] else Path("data") / "ungebot.db"
    return MailSettings(
        host=host, port=numbers["UNGEBOT_SMTP_PORT"], user=values["UNGEBOT_SMTP_USER"] or None,
        password=values["UNGEBOT_SMTP_PASSWORD"] or None, sender=values["UNGEBOT_SMTP_FROM"] or "ungebot@localhost",
        starttls=starttls, recipient=values["UNGEBOT_STAR_EMAIL"] or STAR_ADDRESS,
        outbox=Path(values["UNGEBOT_OUTBOX"]) if values["UNGEBOT_OUTBOX"] else database.parent / "outbox",
        retry_seconds=numbers["UNGEBOT_STAR_RETRY_SECONDS"], max_attempts=numbers["UNGEBOT_STAR_MAX_ATTEMPTS"],
        claim_timeout=numbers["UNGEBOT_STAR_CLAIM_TIMEOUT"], oauth=_oauth(values))


def _whole(key: str, text: str) -> int:
    most = 65_535 if key == "UNGEBOT_SMTP_PORT" else 999_999_999  # ports end there; the rest are counts or seconds
    if not (text.isascii() and text.isdigit()) or len(text) > 9 or not 1 <= int(text) <= most:
        raise ConfigError(f"{key}: »{text[:30]}« skal være et helt tal fra 1 til {most:,}.".replace(",", "."))
    return int(text)


def _oauth(values: dict[str, str]) -> OAuthSettings | None:
    """OAuth for SMTP when a client id is set; it needs a tenant and a secret or a certificate."""
    if not values["UNGEBOT_OAUTH_CLIENT_ID"]:
        return None
    if not values["UNGEBOT_OAUTH_TENANT_ID"]:
        raise ConfigError("UNGEBOT_OAUTH_TENANT_ID mangler: Microsoft Entra-lejerens id (se README: »Exchange Online«).")
    cert = Path(values["UNGEBOT_OAUTH_CERT_FILE"]) if values["UNGEBOT_OAUTH_CERT_FILE"] else None
    if not values["UNGEBOT_OAUTH_CLIENT_SECRET"] and cert is None:
        raise ConfigError("UNGEBOT_OAUTH_CLIENT_SECRET eller UNGEBOT_OAUTH_CERT_FILE mangler: appens hemmelighed eller "
                          "certifikat (se README: »Exchange Online«).")
    if cert is not None and not values["UNGEBOT_OAUTH_CERT_THUMBPRINT"]:
        raise ConfigError("UNGEBOT_OAUTH_CERT_THUMBPRINT mangler: certifikatets SHA-1-fingeraftryk fra app-registreringen.")
    if not values["UNGEBOT_SMTP_USER"]:
        raise ConfigError("UNGEBOT_SMTP_USER mangler: postkassen, botten sender fra (fx ungebot@kommune.dk).")
    return OAuthSettings(
        tenant_id=values["UNGEBOT_OAUTH_TENANT_ID"], client_id=values["UNGEBOT_OAUTH_CLIENT_ID"],
        client_secret=values["UNGEBOT_OAUTH_CLIENT_SECRET"] or None, cert_file=cert,
        cert_thumbprint=values["UNGEBOT_OAUTH_CERT_THUMBPRINT"] or None,
        authority=values["UNGEBOT_OAUTH_AUTHORITY"] or "https://login.microsoftonline.com",
        scope=values["UNGEBOT_OAUTH_SCOPE"] or "https://outlook.office365.com/.default")


@dataclass(frozen=True)
class ImapSettings:
    """Where STAR's replies arrive, to match them to questions by Message-ID (optional)."""

    host: str
    port: int
    ssl: bool
    user: str
    password: str | None = field(repr=False)
    folder: str = "INBOX"


def read_imap_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> ImapSettings | None:
    """IMAP settings when UNGEBOT_IMAP_HOST is set (with a password, or the SMTP OAuth app); else None."""
    values = {key: value.strip() for key, value in read_values(path, environ).items()}
    if not values["UNGEBOT_IMAP_HOST"]:
        return None
    if not values["UNGEBOT_IMAP_USER"]:
        raise ConfigError("UNGEBOT_IMAP_USER mangler: postkassen, STARs svar kommer til (fx ungebot@kommune.dk).")
    secure = values["UNGEBOT_IMAP_SSL"].lower() not in ("0", "false", "nej", "no", "off")
    return ImapSettings(
        host=values["UNGEBOT_IMAP_HOST"], port=_whole("UNGEBOT_IMAP_PORT", values["UNGEBOT_IMAP_PORT"] or
                                                       ("993" if secure else "143")),
        ssl=secure, user=values["UNGEBOT_IMAP_USER"], password=values["UNGEBOT_IMAP_PASSWORD"] or None,
        folder=values["UNGEBOT_IMAP_FOLDER"] or "INBOX")


def read_retention(path: Path | None = None, environ: dict[str, str] | None = None) -> dict[str, int | None]:
    """Days to keep each kind of row: UNGEBOT_KEEP_<KIND>_DAYS, a whole number or `altid` (kept until deleted)."""
    values = read_values(path, environ)
    kept: dict[str, int | None] = {}
    for kind, default in RETENTION.items():
        key = f"UNGEBOT_KEEP_{kind.upper()}_DAYS"
        text = values[key].strip().lower()
        kept[kind] = None if text in ("altid", "always", "never") else _whole(key, text) if text else default
    return kept


def read_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """The Telegram bot's settings; ConfigError when the token is missing or a value is malformed."""
    values = read_values(path, environ)
    if not values["TELEGRAM_BOT_TOKEN"].strip():
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN mangler / is missing. Sæt den i miljøet eller i ungebot.toml (se README: "
            "»Telegram«). Vil du bare prøve botten, så kør `make chat` – den kræver ingen token.")
    return Settings(
        token=values["TELEGRAM_BOT_TOKEN"].strip(),
        api_url=values["UNGEBOT_TELEGRAM_API_URL"].strip() or None,
        allowed_users=_user_ids("UNGEBOT_ALLOWED_USERS", values["UNGEBOT_ALLOWED_USERS"]),
        support_users=_user_ids("UNGEBOT_SUPPORT_USERS", values["UNGEBOT_SUPPORT_USERS"]),
        database=Path(values["UNGEBOT_DB"]) if values["UNGEBOT_DB"] else None,
        municipality=values["UNGEBOT_MUNICIPALITY"].strip(),
    )


# `ungebot web` (bot/channels/web/settings.py reads them)
KEYS += (
    "UNGEBOT_WEB_HOST", "UNGEBOT_WEB_PORT", "UNGEBOT_WEB_PUBLIC_URL", "UNGEBOT_WEB_OIDC_ISSUER",
    "UNGEBOT_WEB_OIDC_CLIENT_ID", "UNGEBOT_WEB_OIDC_CLIENT_SECRET", "UNGEBOT_WEB_OIDC_USER_CLAIM",
    "UNGEBOT_WEB_OIDC_GROUPS_CLAIM", "UNGEBOT_WEB_ALLOWED_USERS", "UNGEBOT_WEB_ALLOWED_GROUPS",
    "UNGEBOT_WEB_SUPPORT_USERS", "UNGEBOT_WEB_SUPPORT_GROUPS", "UNGEBOT_WEB_TRUSTED_HEADER",
    "UNGEBOT_WEB_TRUSTED_NAME_HEADER", "UNGEBOT_WEB_TRUSTED_GROUPS_HEADER", "UNGEBOT_WEB_TRUSTED_PROXIES",
    "UNGEBOT_WEB_TEAMS", "UNGEBOT_WEB_SESSION_HOURS", "UNGEBOT_WEB_ASSETS", "UNGEBOT_WEB_RATE_ANSWERS",
    "UNGEBOT_WEB_RATE_LOGINS")
