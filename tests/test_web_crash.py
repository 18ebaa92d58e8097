"""The web chat's crash trial, small: 10 sessions, 2 SIGKILLs of `ungebot web` (bench/web_crash.py runs 100 and 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_killed_twice_nothing_acknowledged_is_lost_and_each_decision_is_logged_once(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "web_crash.py"), "--sessions", "10", "--kills", "2",
                             "--cases", "1"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["lost"] == figures["stuck"] == figures["twice"] == figures["missing"] == 0, result.stdout
