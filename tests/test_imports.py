"""Architecture rule: the core imports no adapter library (click's test_imports idea)."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = {"telegram", "sqlite3", "sqlite_utils", "jinja2"}


def _modules_after(statement: str) -> set[str]:
    code = f"import sys, json\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in json.loads(output)}


def test_importing_flows_loads_no_adapter_library() -> None:
    loaded = _modules_after("import flows, flows.engine, flows.loader, flows.dates, flows.answers, flows.privacy\n"
                            "flows.engine.load_rulebook()")
    assert loaded & FORBIDDEN == set()


def test_decide_does_not_load_telegram() -> None:
    loaded = _modules_after("import bot.cli.main, bot.cli.decide, bot.channels.terminal, bot.chat.conversation")
    assert "telegram" not in loaded
