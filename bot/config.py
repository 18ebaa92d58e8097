"""Settings for the Telegram bot: environment variables, or the same keys in ungebot.toml (the environment wins)."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

KEYS = ("TELEGRAM_BOT_TOKEN", "UNGEBOT_TELEGRAM_API_URL", "UNGEBOT_ALLOWED_USERS", "UNGEBOT_SUPPORT_USERS",
        "UNGEBOT_DB", "UNGEBOT_MUNICIPALITY")


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


def read_settings(path: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Merge ungebot.toml (if present) with the environment, the environment winning; raise ConfigError."""
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
    values = {key: environ.get(key) or file_values.get(key, "") for key in KEYS}
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
