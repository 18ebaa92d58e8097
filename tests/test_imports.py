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
    loaded = _modules_after("import bot.cli, bot.cli.decide, bot.channels.terminal, bot.chat.conversation")
    assert "telegram" not in loaded


# The layers of bot/, highest first: a module may import its own layer and the ones below, never one above.
LAYERS = ("bot.cli", "bot.channels", "bot.desk", "bot.learn", "bot.chat", "bot.config")


def _bot_imports() -> dict[str, set[str]]:
    """Every bot module and the bot modules it imports, at any depth of its code (lazy imports too)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    found: dict[str, set[str]] = {}
    for path in sorted((root / "bot").rglob("*.py")):
        module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
        names = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[module] = {name for name in names if name == "bot" or name.startswith("bot.")}
    return found


def _layer(module: str) -> int:
    return next(index for index, prefix in enumerate(LAYERS) if module == prefix or module.startswith(prefix + "."))


def test_bot_imports_run_one_way() -> None:
    wrong = [(module, name) for module, names in _bot_imports().items() if module not in ("bot",)
             for name in names if _layer(name) < _layer(module)]
    assert wrong == []


def test_channels_do_not_import_each_other() -> None:
    wrong = [(module, name) for module, names in _bot_imports().items()
             if module.startswith("bot.channels.") and module != "bot.channels.staff"
             for name in names if name.startswith("bot.channels.") and name != "bot.channels.staff"
             and name.split(".")[2] != module.split(".")[2]]
    assert wrong == []


def test_the_turn_layer_knows_no_channel_library() -> None:
    loaded = _modules_after("import bot.chat.conversation, bot.chat.texts, bot.chat.star_steps, bot.chat.dialogue")
    assert loaded & {"telegram", "starlette", "uvicorn", "httpx"} == set()


def test_learning_knows_no_channel() -> None:
    loaded = _modules_after("import bot.learn.trainer, bot.learn.stats, bot.learn.diagrams")
    assert loaded & {"telegram", "starlette", "uvicorn", "httpx"} == set()
    assert not any(name.startswith("bot.channels") for names in [_bot_imports()[m] for m in _bot_imports()
                                                                 if m.startswith("bot.learn")] for name in names)
