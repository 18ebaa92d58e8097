"""Settings for the Telegram bot: environment variables, or the same keys in ungebot.toml (the environment wins)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

KEYS = ("TELEGRAM_BOT_TOKEN", "UNGEBOT_TELEGRAM_API_URL", "UNGEBOT_ALLOWED_USERS", "UNGEBOT_SUPPORT_USERS",
        "UNGEBOT_DB", "UNGEBOT_MUNICIPALITY", "UNGEBOT_SMTP_HOST", "UNGEBOT_SMTP_PORT", "UNGEBOT_SMTP_USER",
        "UNGEBOT_SMTP_PASSWORD", "UNGEBOT_SMTP_FROM", "UNGEBOT_SMTP_STARTTLS", "UNGEBOT_STAR_EMAIL", "UNGEBOT_OUTBOX",
        "UNGEBOT_STAR_RETRY_SECONDS")
STAR_ADDRESS = "star@star.dk"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """What the Telegram bot needs to run."""

    token: str
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
        if not part.lstrip("-").isdigit():
            raise ConfigError(f"{key}: »{part}« er ikke et Telegram-bruger-id (kun tal, adskilt af komma).")
        ids.add(int(part))
    return frozenset(ids)


@dataclass(frozen=True)
class MailSettings:
    """How questions reach STAR: by SMTP when a host is set, otherwise as a mailto: link and a saved .eml file."""

    host: str | None
    port: int
    user: str | None
    password: str | None
    sender: str
    starttls: bool
    recipient: str
    outbox: Path
    retry_seconds: int

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
    retry_text = values["UNGEBOT_STAR_RETRY_SECONDS"] or "300"
    for key, text in (("UNGEBOT_SMTP_PORT", port_text), ("UNGEBOT_STAR_RETRY_SECONDS", retry_text)):
        if not text.isdigit() or int(text) < 1:
            raise ConfigError(f"{key}: »{text}« skal være et helt tal større end 0.")
    if host and not values["UNGEBOT_SMTP_FROM"]:
        raise ConfigError("UNGEBOT_SMTP_FROM mangler: afsenderadressen på mails til STAR (fx ungebot@kommune.dk).")
    database = Path(values["UNGEBOT_DB"]) if values["UNGEBOT_DB"] else Path("data") / "ungebot.db"
    return MailSettings(
        host=host, port=int(port_text), user=values["UNGEBOT_SMTP_USER"] or None,
        password=values["UNGEBOT_SMTP_PASSWORD"] or None, sender=values["UNGEBOT_SMTP_FROM"] or "ungebot@localhost",
        starttls=starttls, recipient=values["UNGEBOT_STAR_EMAIL"] or STAR_ADDRESS,
        outbox=Path(values["UNGEBOT_OUTBOX"]) if values["UNGEBOT_OUTBOX"] else database.parent / "outbox",
        retry_seconds=int(retry_text))


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
