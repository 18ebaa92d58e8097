"""The support team's desk over the decision log: list, show, export, stats, replay. Texts from templates."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any, TextIO

from markupsafe import Markup

from bot.chat.texts import Texts, to_plain
from bot.chat.why import Why
from flows.errors import AnswerError
from flows.trace import from_dicts, trace
from flows.dates import MONTH_NAMES
from flows.engine import Rulebook
from storage.log import local_time

# What a replay compares: the decision itself, not its wording or citations.
_COMPARED = ("result", "effect", "use_flow", "warnings", "gap", "deadline")


def when(stored: str, short: bool = False) -> str:
    """A stored UTC time the Danish way, in Danish local time."""
    moment = local_time(stored)
    month = MONTH_NAMES[moment.month - 1][:3] if short else MONTH_NAMES[moment.month - 1]
    return f"{moment.day}. {month} {moment.year} {moment:%H:%M}"


class Desk:
    """Formats log rows for people; one per process, over one rulebook and its texts."""

    def __init__(self, rulebook: Rulebook, texts: Texts) -> None:
        self.rulebook, self.texts = rulebook, texts
        self.template = texts.env.get_template("common/log.j2")

    def text(self, block: str, **context: Any) -> str:
        """A block of templates/common/log.j2 (HTML)."""
        return "".join(self.template.blocks[block](self.template.new_context(context))).strip()

    def label(self, kind: str, code: str | None) -> str:
        """The Danish label of a code (result, effect, warning, channel) for staff screens."""
        return self.text(f"label_{kind}", code=code) if code else ""

    def situation(self, flow_id: str) -> str:
        """A flow's Danish title (its id only if today's rules no longer have it)."""
        flow = self.rulebook.flows.get(flow_id)
        return flow.title if flow else flow_id

    def actions(self, outcome: dict[str, Any]) -> list[str]:
        """Each marker action of a stored outcome in one Danish line (HTML)."""
        return [self.text("action", action={**a, "date": date.fromisoformat(a["date"])})
                for a in outcome.get("actions", [])]

    # -- list -----------------------------------------------------------------------------------------------------------
    def table(self, records: list[dict[str, Any]]) -> str:
        """A plain-text table, newest first, each row followed by its actions."""
        if not records:
            return to_plain(self.text("none_found"))
        headers = self.text("headers").split("|")
        rows = [[str(r["id"]) + ("*" if r.get("replaced_at") else ""), when(r["time"], short=True),
                 self.label("channel", r["channel"]), f"{r['staff_name'] or '–'} ({r['staff_id']})",
                 self.situation(r["flow"]), self.label("result", r["result"]),
                 ", ".join(self.label("warning", w) for w in r["warnings"]) or "–"] for r in records]
        widths = [max(len(cell) for cell in column) for column in zip(headers, *rows)]
        lines = ["  ".join(cell.ljust(width) for cell, width in zip(headers, widths)).rstrip()]
        for record, row in zip(records, rows):
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
            actions = "; ".join(to_plain(line) for line in self.actions(record["outcome"]))
            if actions:
                lines.append(" " * (widths[0] + 2) + actions)
        if any(r.get("replaced_at") for r in records):
            lines.append(to_plain(self.text("replaced_note")))
        return "\n".join(lines)

    def recent(self, records: list[dict[str, Any]]) -> str:
        """The last decisions in short lines, for Telegram (HTML)."""
        if not records:
            return self.text("none_found")
        lines = [f"nr. {r['id']} {when(r['time'], short=True)} · {self.situation(r['flow'])} · "
                 f"{self.label('result', r['result'])} · {r['staff_name'] or r['staff_id']}" for r in records]
        return self.text("recent", lines=lines)

    # -- show -----------------------------------------------------------------------------------------------------------
    def show(self, record: dict[str, Any]) -> str:
        """One decision with each question, the answer, the outcome and the sources (HTML)."""
        given: dict[str, dict[str, str]] = {}
        for entry in record["answers"]:
            given.setdefault(entry["flow"], {})[entry["question"]] = entry["value"]
        answers = []
        for entry in record["answers"]:
            flow = self.rulebook.flows.get(entry["flow"])
            question = flow.question(entry["question"]) if flow else None
            if flow is None or question is None:  # a question today's flows no longer have
                answers.append((entry["question"], entry["value"]))
                continue
            text = to_plain(self.texts.question(flow, question, given[entry["flow"]])).split("\n")[0]
            answers.append((text, self.texts.answer(flow, question, entry["value"])))
        outcome = record["outcome"]
        return self.text("show", record=record, when=when(record["time"]), answers=answers,
                         actions=self.actions(outcome), why=Markup(self.why(record)),
                         replaced=when(record["replaced_at"]) if record.get("replaced_at") else "",
                         channel=self.label("channel", record["channel"]), situation=self.situation(record["flow"]),
                         result=self.label("result", outcome.get("result")), effect=self.label("effect", outcome.get("effect")),
                         use_flow=self.situation(outcome["use_flow"]) if outcome.get("use_flow") else "",
                         warnings=[self.label("warning", code) for code in record["warnings"]])

    def why(self, record: dict[str, Any]) -> str:
        """The stored trace of a decision in Danish (HTML); recomputed from its answers for a row logged without one."""
        stored = record["outcome"].get("trace")
        if stored is not None:
            return Why(self.texts).render(from_dicts(stored))
        path: dict[str, dict[str, str]] = {}
        for entry in record["answers"]:
            path.setdefault(entry["flow"], {})[entry["question"]] = entry["value"]
        day = date.fromisoformat(record["decided_on"]) if record.get("decided_on") else local_time(record["time"]).date()
        try:
            steps = trace(self.rulebook, list(path.items()), day)
        except (KeyError, ValueError, AnswerError):  # flows or questions that today's rulebook no longer has
            return ""
        return Why(self.texts).render(steps)

    # -- export ---------------------------------------------------------------------------------------------------------
    def export_csv(self, records: list[dict[str, Any]], out: TextIO) -> None:
        """CSV that Danish Excel opens as it is: UTF-8 with a byte-order mark, semicolons."""
        out.write("\ufeff")
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow(["nr", "tid_utc", "tid", "dag_for_resultat", "kanal", "medarbejder_id", "medarbejder", "program",
                         "situation", "regelsæt", "resultat", "indsatsgruppe", "handlinger", "advarsler", "kilder", "svar",
                         "udfald", "erstattet"])
        for r in records:
            writer.writerow([
                r["id"], r["time"], when(r["time"]), r.get("decided_on") or "", self.label("channel", r["channel"]),
                r["staff_id"], r["staff_name"], r["programme"], self.situation(r["flow"]), r["rulebook_edition"],
                self.label("result", r["result"]), self.label("effect", r["outcome"].get("effect")),
                "; ".join(to_plain(line) for line in self.actions(r["outcome"])),
                ", ".join(self.label("warning", w) for w in r["warnings"]),
                "; ".join(r["sources"]), json.dumps(r["answers"], ensure_ascii=False),
                json.dumps(r["outcome"], ensure_ascii=False), when(r["replaced_at"]) if r.get("replaced_at") else ""])

    @staticmethod
    def export_json(records: list[Any], out: TextIO) -> None:
        """The rows as a JSON list, the JSON columns decoded."""
        json.dump([record.decoded() for record in records], out, ensure_ascii=False, indent=2)
        out.write("\n")

    # -- stats ----------------------------------------------------------------------------------------------------------
    def stats(self, figures: dict[str, Any]) -> str:
        """Decisions per week and flow, results and warnings, as plain text."""
        out = io.StringIO()
        out.write(to_plain(self.text("stats_weeks")) + "\n")
        for week, per_flow in figures["weeks"].items():
            year, number = week.split("-U")
            counts = ", ".join(f"{self.situation(flow)} {count}" for flow, count in sorted(per_flow.items()))
            out.write(f"uge {int(number)} {year}: {counts}\n")
        for block, key, kind in (("stats_results", "results", "result"), ("stats_warnings", "warnings", "warning")):
            items = sorted(figures[key].items(), key=lambda item: (-item[1], item[0]))
            out.write("\n" + to_plain(self.text(block)) + ": "
                      + (", ".join(f"{self.label(kind, k)} {v}" for k, v in items) or "–") + "\n")
        return out.getvalue().rstrip()

    # -- replay ---------------------------------------------------------------------------------------------------------
    def replay(self, records: list[dict[str, Any]]) -> tuple[list[str], str]:
        """Each decision whose outcome today's flows would change (old and new), and a summary line.

        Only decisions of the programmes these flows hold are replayed (`--flows DIR` is one programme)."""
        programmes = {flow.programme.id for flow in self.rulebook.flows.values()}
        records = [record for record in records if record.get("programme", "") in programmes]
        rows = []
        for record in records:
            new, problem = self._replayed(record)
            if new is not None and self._comparable(new) == self._comparable(record["outcome"]):
                continue
            rows.append(to_plain(self.text(
                "replay_row", record=record, when=when(record["time"]), edition=self._edition(record["flow"]),
                situation=self.situation(record["flow"]),
                old=self._describe(record["outcome"]), new=problem or self._describe(new or {}))))
        summary_block = "replay_summary" if rows else "replay_same"
        summary = to_plain(self.text(summary_block, changed=len(rows), count=len(records),
                                      edition=self._editions()))
        return rows, summary

    def _edition(self, flow_id: str) -> str:
        """The edition today's rules give a logged flow (each programme has its own)."""
        flow = self.rulebook.flows.get(flow_id)
        return flow.programme.edition if flow is not None else self.rulebook.edition

    def _editions(self) -> str:
        """Every programme's current edition (a catalogue holds several)."""
        books = getattr(self.rulebook, "rulebooks", None)
        return ", ".join(book.edition for book in books.values()) if books else self.rulebook.edition

    def _replayed(self, record: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
        """The outcome today's flows give for the logged answers, or why there is none."""
        flow = self.rulebook.flows.get(record["flow"])
        if flow is None or flow.programme.id != record.get("programme", flow.programme.id):
            return None, to_plain(self.text("replay_gone"))  # never replayed under another programme's rules
        answers = {a["question"]: a["value"] for a in record["answers"] if a["flow"] == record["flow"]}
        # The day the dialogue used as today: far-date warnings are then reproduced, not caused by time passing.
        day = date.fromisoformat(record["decided_on"]) if record.get("decided_on") else local_time(record["time"]).date()
        position = flow.walk(answers, day)
        if position.outcome is None:
            assert position.question is not None
            question = to_plain(self.texts.question(flow, position.question, position.answers)).split("\n")[0]
            return None, to_plain(self.text("replay_stops", question=question))
        return position.outcome.to_dict(), None

    @staticmethod
    def _comparable(outcome: dict[str, Any]) -> dict[str, Any]:
        compared = {key: outcome.get(key) for key in _COMPARED}
        compared["warnings"] = list(outcome.get("warnings") or [])
        compared["actions"] = [(a["do"], a["marker_key"], a["date"], a.get("other_person", False))
                               for a in outcome.get("actions", [])]
        return compared

    def _describe(self, outcome: dict[str, Any]) -> str:
        """A stored or replayed outcome on one line."""
        parts = [self.label("result", outcome.get("result")) or "?"] + [to_plain(line) for line in self.actions(outcome)]
        if outcome.get("effect"):
            parts.append(f"indsatsgruppe: {self.label('effect', outcome['effect'])}")
        if outcome.get("warnings"):
            parts.append("advarsler: " + ", ".join(self.label("warning", code) for code in outcome["warnings"]))
        return " · ".join(parts)
