"""Engine speed: µs per answered question and per whole dialogue over the scenario files, and `ungebot decide`
as a whole process. Prints figures; asserts nothing.

    .venv/bin/python bench/engine.py [--dialogues 100000] [--decide-runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.chat.texts import Texts  # noqa: E402
from flows.engine import Flow, Rulebook, load_rulebook  # noqa: E402
from tests.scenarios import load_scenarios, walk  # noqa: E402


def canonical_dialogues(rulebook: Rulebook) -> list[tuple[Flow, date, list[str]]]:
    """Each scenario's answers as the canonical values the engine stores."""
    texts = Texts(rulebook)
    dialogues = []
    for scenario in load_scenarios():
        _, values = walk(rulebook, texts, scenario)
        if values:
            dialogues.append((rulebook.flow(scenario["flow"]), scenario["today"], values))
    return dialogues


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def bench_engine(count: int) -> None:
    rulebook = load_rulebook()
    dialogues = canonical_dialogues(rulebook)
    per_answer: list[float] = []
    per_dialogue: list[float] = []
    clock = time.perf_counter_ns
    for index in range(count):
        flow, today, values = dialogues[index % len(dialogues)]
        started = clock()
        position = flow.walk({}, today)
        for value in values:
            before = clock()
            position = flow.step(position, value, today)
            per_answer.append((clock() - before) / 1000)
        per_dialogue.append((clock() - started) / 1000)
        assert position.outcome is not None
    per_answer.sort()
    per_dialogue.sort()
    print(f"engine: {count:,} dialogues ({len(dialogues)} scenario paths), {len(per_answer):,} answers")
    print(f"  per answered question: median {statistics.median(per_answer):7.1f} µs   p99 {percentile(per_answer, 0.99):7.1f} µs")
    print(f"  per whole dialogue:    median {statistics.median(per_dialogue):7.1f} µs   p99 {percentile(per_dialogue, 0.99):7.1f} µs")
    flow = rulebook.flow("switch")
    started = time.perf_counter()
    for _ in range(50):
        Flow(flow.spec, rulebook.programme)
    print(f"  building one Machine (done once per flow at start-up, never per dialogue): "
          f"{(time.perf_counter() - started) / 50 * 1e6:,.0f} µs")
    print(f"  machine models after all dialogues: {len(flow.machine.models)} (no list grows with dialogues)")


def bench_decide(runs: int) -> None:
    executable = Path(sys.executable).with_name("ungebot")
    command = [str(executable), "decide", "switch", "-a", "current_marker=fusm", "-a", "psychiatry_course=ja",
               "-a", "current_start_date=12.10.2025", "-a", "new_start_date=1.2.2026", "--json"]
    env = {**os.environ, "UNGEBOT_DB": str(Path("/tmp") / f"ungebot-bench-{os.getpid()}.db")}
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, env=env)
        timings.append(time.perf_counter() - started)
    timings.sort()
    print(f"ungebot decide as a whole process ({runs} runs, decision logged): "
          f"median {statistics.median(timings) * 1000:.0f} ms, max {timings[-1] * 1000:.0f} ms")
    for suffix in ("", "-wal", "-shm"):
        Path(env["UNGEBOT_DB"] + suffix).unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dialogues", type=int, default=100_000)
    parser.add_argument("--decide-runs", type=int, default=20)
    args = parser.parse_args()
    bench_engine(args.dialogues)
    bench_decide(args.decide_runs)


if __name__ == "__main__":
    main()
