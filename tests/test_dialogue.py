"""bot/chat/dialogue.py: today as the dialogue uses it, and the state's stored form."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from flows.dates import COPENHAGEN, today_in_copenhagen
from storage.records import to_json

from bot.chat.dialogue import DialogueState, Segment, _today, current_day


def test_the_remembered_day_is_todays_in_copenhagen_on_both_sides_of_every_midnight() -> None:
    """Around midnight in winter and summer and on the days the clocks change, forwards and with the clock set back."""
    instants = []
    for day in ("2026-01-15", "2026-03-28", "2026-03-29", "2026-03-30", "2026-07-01", "2026-10-24", "2026-10-25",
                "2026-10-26", "2026-12-31"):
        midnight = datetime.fromisoformat(day).replace(tzinfo=COPENHAGEN)
        instants += [midnight + timedelta(seconds=offset) for offset in (-3601, -1, 0, 1, 3599, 7200, 86399)]
    seconds = [instant.timestamp() for instant in instants]
    for now in seconds + seconds[::-1] + seconds[::7]:
        assert _today(now) == today_in_copenhagen(datetime.fromtimestamp(now, timezone.utc)), now


def test_current_day_is_today_unless_pinned(monkeypatch: object) -> None:
    assert current_day() in (today_in_copenhagen(), today_in_copenhagen() - timedelta(days=1))
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")  # type: ignore[attr-defined]
    assert current_day().isoformat() == "2026-01-15"


def sample_state() -> DialogueState:
    return DialogueState([Segment("situation", {"situation": "switch"}), Segment("switch", {"current_marker": "ips"})],
                         pending={"kind": "star_confirm", "question": "7"}, step=5, last_update=41, programme=None,
                         star_drafts=["3"], decision_id=12, replaced=[9])


def test_the_stored_form_of_a_state() -> None:
    state = sample_state()
    assert to_json(state.to_dict()) == (
        '{"v": 1, "step": 5, "pending": {"kind": "star_confirm", "question": "7"}, "last_update": 41, '
        '"programme": null, "star_drafts": ["3"], "segments": [{"flow": "situation", "answers": [["situation", "switch"]]}, '
        '{"flow": "switch", "answers": [["current_marker", "ips"]]}], "decision_id": 12, "replaced": [9]}')
    assert DialogueState.from_dict(json.loads(to_json(state.to_dict()))) == state


def test_the_stored_form_does_not_change_with_the_state() -> None:
    """A channel keeps the dict it wrote to compare the next turn's with: a change to the state must show."""
    state = sample_state()
    kept = state.to_dict()
    assert state.pending is not None
    state.pending["question"] = "8"
    state.star_drafts.append("4")
    state.segments[-1].answers["psychiatry_course"] = "yes"
    assert kept == sample_state().to_dict() and state.to_dict() != kept
