"""Telegram settings: environment or ungebot.toml (environment wins), clear errors, a missing token exits 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, read_settings

from tests.conftest import ROOT


def test_environment_only(tmp_path: Path) -> None:
    settings = read_settings(tmp_path / "absent.toml", {
        "TELEGRAM_BOT_TOKEN": "1:abc", "UNGEBOT_ALLOWED_USERS": "11, 12", "UNGEBOT_SUPPORT_USERS": "13"})
    assert settings.token == "1:abc" and settings.allowed_users == {11, 12} and settings.support_users == {13}
    assert settings.may_use(12) and settings.may_use(13) and not settings.may_use(14)
    assert settings.api_url is None and settings.database is None


def test_toml_with_environment_winning(tmp_path: Path) -> None:
    path = tmp_path / "ungebot.toml"
    path.write_text('TELEGRAM_BOT_TOKEN = "from-file"\nUNGEBOT_ALLOWED_USERS = [21, 22]\n'
                    'UNGEBOT_TELEGRAM_API_URL = "http://127.0.0.1:8081/bot"\nUNGEBOT_DB = "x.db"\n', encoding="utf-8")
    settings = read_settings(path, {"TELEGRAM_BOT_TOKEN": "from-env"})
    assert settings.token == "from-env" and settings.allowed_users == {21, 22}
    assert settings.api_url == "http://127.0.0.1:8081/bot" and settings.database == Path("x.db")


@pytest.mark.parametrize("content, words", [
    ("TELEGRAM_BOT_TOKEN = \n", "TOML"),
    ('TELEGRAM_BOT_TOKEN = "x"\nTOKEN = "y"\n', "ukendte nøgler TOKEN"),
    ('TELEGRAM_BOT_TOKEN = "x"\nUNGEBOT_ALLOWED_USERS = "12, anna"\n', "»anna« er ikke et Telegram-bruger-id"),
    ("", "TELEGRAM_BOT_TOKEN mangler"),
])
def test_bad_settings_say_what_is_wrong(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "ungebot.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=words):
        read_settings(path, {})


def test_missing_token_exits_2_and_points_to_make_chat(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key != "TELEGRAM_BOT_TOKEN"}
    env["UNGEBOT_CONFIG"] = str(tmp_path / "none.toml")
    result = subprocess.run([sys.executable, "-m", "bot.cli", "telegram"], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "TELEGRAM_BOT_TOKEN" in result.stderr and "make chat" in result.stderr
    assert "Traceback" not in result.stderr
