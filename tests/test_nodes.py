"""The node checks behind the loader: every error a broken flow file can hold names the file, the node and the
problem (a table: one broken line per row)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.errors import FlowError
from flows.loader import load_flow_spec, load_programme
from flows.model import EFFECTS, RESULTS, WARNINGS, Branch, Condition, WarningRule
from flows.nodes import Checker, _marker
from tests.test_loader import _break, programme_copy  # noqa: F401 (programme_copy is a fixture)


def _error(path: Path) -> str:
    """The loader's message for one broken flow file, read alone (fast: the tests run against every mutant)."""
    with pytest.raises(FlowError) as caught:
        load_flow_spec(path, load_programme(path.parent))
    return str(caught.value)


# Every error a broken flow file can hold, each with the words its message must show: (flow file, text in it,
# replacement, the node named or "" for top level, the message after file and node).
STILL_IPS = "  still_ips:\n    result: no_change\n"
SWITCH_CARRY = ('carry: {wrong_marker: current_marker, wrong_start_date: current_start_date,\n'
                '            correct_registration_needed: {value: "yes"}, wrong_person: {value: "no"},\n'
                '            correct_marker: {other_than: current_marker}, correct_start_date: new_start_date}')

BROKEN = [
    # the file as a whole
    ("course_ends", "flow: course_ends", 'flow: ""', "", "flow must be a non-empty string, not ''"),
    ("course_ends", "start: no_rule_in_guide", 'start: ""', "", "start must be a non-empty string, not ''"),
    ("leave", 'edition: "ungeloeftet-2025.2"', 'edition: "ungeloeftet-2024.1"', "",
     "edition 'ungeloeftet-2024.1' is not the programme's 'ungeloeftet-2025.2'"),
    ("switch", "outcomes:\n", "outcomes:\n  psychiatry_course: {result: no_change, effect: null, source: \"000: Formål\"}\n"
     "  current_marker: {result: no_change, effect: null, source: \"000: Formål\"}\n", "",
     "ids used for both a question and an outcome: current_marker, psychiatry_course"),
    ("course_ends", "flow: course_ends", "flow: course_end", "",
     "flow id 'course_end' differs from the file name 'course_ends'"),
    ("course_ends", "flow: course_ends\n", "", "", "flow file lacks flow"),
    ("course_ends", "start: no_rule_in_guide", "start: no_rule_in_guide\nextra: 1\nmore: 2", "",
     "flow file has unknown key(s) extra, more"),
    ("course_ends", 'flow: course_ends\ntitle: "Forløbet slutter af en anden grund"\n', "", "",
     "flow file lacks flow, title"),
    ("course_ends", "start: no_rule_in_guide", "start: nowhere", "", "start 'nowhere' is not a node of this flow"),
    ("course_ends", 'title: "Forløbet slutter af en anden grund"', 'title: ""', "",
     "title must be a non-empty string, not ''"),
    ("course_ends", "outcomes:\n  no_rule_in_guide:", "outcomes: [no_rule_in_guide]\nunused:\n  x:", "",
     'flow file has unknown key(s) unused'),
    ("switch", "questions:\n", "questions: [1]\nquestionz:\n", "", 'flow file has unknown key(s) questionz'),
    ("move_out", "outcomes:\n", "questions_again: 1\noutcomes:\n", "", 'flow file has unknown key(s) questions_again'),
    ("course_ends", 'source: "000: Overblik over registrering i Ungeløftet"\nstart',
     'source: "Overblik"\nstart', "", "source 'Overblik' is not '000: <section>[ › <box>]'"),
    ("course_ends", 'source: "000: Overblik over registrering i Ungeløftet"\nstart', 'source: ""\nstart', "",
     "source must be a non-empty string, not ''"),
    ("course_ends", 'source: "000: Overblik over registrering i Ungeløftet"\nstart', 'source: "000: Andet"\nstart', "",
     "source '000: Andet' names a section the programme does not list"),
    # questions
    ("switch", "    kind: yes_no\n    source: \"000: Målgruppekriterier\"\n    next:\n",
     "    kind: maybe\n    source: \"000: Målgruppekriterier\"\n    next:\n", "psychiatry_course",
     "kind 'maybe' is not yes_no, choice or date"),
    ("switch", "    options: [ips, fusm]\n", "    options: []\n", "current_marker", "a choice needs a list of options"),
    ("switch", "    options: [ips, fusm]\n", "    options: [ips, \"\"]\n", "current_marker",
     "option must be a non-empty string, not ''"),
    ("error", "  wrong_person:\n    kind: yes_no\n", "  wrong_person:\n    kind: yes_no\n    options: [a, b]\n",
     "wrong_person", "a yes_no question takes no options"),
    ("switch", "  current_start_date:\n    kind: date\n    existing_start: true",
     "  current_start_date:\n    kind: date\n    existing_start: \"yes\"", "current_start_date",
     'existing_start must be true or false, and only a date question can have it'),
    ("start", "  age_15_29:\n    kind: yes_no\n", "  age_15_29:\n    kind: yes_no\n    optional: true\n", "age_15_29",
     'optional must be true or false, and only a date question can have it'),
    ("start", "  age_15_29:\n    kind: yes_no\n", "  age_15_29:\n    kind: yes_no\n    suggest_today: true\n",
     "age_15_29", "suggest_today must be true or false, and only a date question can have it"),
    ("start", 'next: {"yes": meets_criterion, "no": not_eligible_age}', 'next: {"yes": meets_criterion}', "age_15_29",
     "next by answer must name exactly the answers ['yes', 'no'], not ['yes']"),
    ("start", "    next: registered\n", "    next: {\"yes\": registered, \"no\": registered}\n", "start_date",
     "next by answer must name exactly the answers [], not ['yes', 'no']"),
    ("leave", "      - goto: leave_registered", "      - when: {phase: starts}\n        goto: leave_registered",
     "leave_start_date", "the last branch of next must have no 'when', so the flow always goes on"),
    ("leave", "    next: leave_start_date", "    next: 7", "current_start_date",
     "next must be a node id, a mapping by answer, or a list of branches"),
    ("leave", "    next: leave_start_date", "    next: []", "current_start_date",
     "next must be a node id, a mapping by answer, or a list of branches"),
    ("leave", "      - goto: leave_registered", "      - go: leave_registered", "leave_start_date", "branch lacks goto"),
    ("leave", "      - goto: leave_registered", "      - goto: \"\"", "leave_start_date",
     "goto must be a non-empty string, not ''"),
    ("switch", "    options: [ips, fusm]\n", "    options: [ips, fusm]\n    typed: {answer: ips}\n",
     "current_marker", "typed is a list of rules, and only a choice question has it"),
    ("switch", "    kind: yes_no\n    source: \"000: Målgruppekriterier\"\n    next:\n",
     "    kind: yes_no\n    typed: [{answer: \"yes\", starts: ja}]\n"
     "    source: \"000: Målgruppekriterier\"\n    next:\n",
     "psychiatry_course", "typed is a list of rules, and only a choice question has it"),
    ("switch", "  current_start_date:\n    kind: date\n",
     "  current_start_date:\n    kind: date\n    typed: [{answer: x}]\n", "current_start_date",
     "typed is a list of rules, and only a choice question has it"),
    ("switch", "    options: [ips, fusm]\n", "    options: [ips, fusm]\n    typed: [{answer: x, starts: z}]\n",
     "current_marker", "typed rule {'answer': 'x', 'starts': 'z'} must name one of ['ips', 'fusm'] and what it starts "
     "with or contains"),
    ("switch", "    options: [ips, fusm]\n",
     "    options: [ips, fusm]\n    typed: [{answer: ips, starts: ips, at: 1}]\n", "current_marker",
     "typed rule has unknown key(s) at"),
    ("switch", "    kind: yes_no\n    source: \"000: Målgruppekriterier\"\n    next:\n",
     "    kind: yes_no\n    next:\n", "psychiatry_course", "question lacks source"),
    # conditions and reject rules
    ("leave", "      - when: {leave_start_date: {not_after: current_start_date}}", "      - when: [leave_start_date]",
     "leave_start_date", "when must be a mapping of question id to value"),
    ("leave", "      - when: {leave_start_date: {not_after: current_start_date}}",
     "      - when: {leave_end_date: {not_after: current_start_date}}", "leave_start_date",
     "when tests 'leave_end_date', which is not a question of this flow"),
    ("leave", "      - when: {leave_start_date: {not_after: current_start_date}}",
     "      - when: {leave_start_date: [current_start_date]}", "leave_start_date",
     'when leave_start_date: expected an answer value or one comparison like {before: other_date}'),
    ("leave", "      - when: {leave_start_date: {not_after: current_start_date}}",
     "      - when: {leave_start_date: {later_than: current_start_date}}", "leave_start_date",
     "when leave_start_date: 'later_than' 'current_start_date' is not a comparison with a question of this flow "
     "or with today"),
    ("leave", "      - when: {leave_start_date: {not_after: current_start_date}}",
     "      - when: {leave_start_date: {not_after: start_of_time}}", "leave_start_date",
     "when leave_start_date: 'not_after' 'start_of_time' is not a comparison with a question of this flow "
     "or with today"),
    ("leave", "      - when: {leave_start_date: {not_after: current_start_date}}",
     "      - when: {leave_start_date: {not_after: current_marker}}", "leave_start_date",
     'when leave_start_date: not_after compares dates, and both questions must be dates'),
    ("leave", "      - when: {leave_start_date: {not_after: current_start_date}}",
     "      - when: {current_marker: {before: current_start_date}}", "leave_start_date",
     'when current_marker: before compares dates, and both questions must be dates'),
    ("error", "correct_marker: {same_as: wrong_marker}", "correct_marker: {same_as: wrong_start_date}",
     "correct_start_date", 'when correct_marker: same_as compares two questions of the same kind and answers'),
    ("error", "correct_marker: {same_as: wrong_marker}", "correct_marker: {same_as: wrong_person}",
     "correct_start_date", 'when correct_marker: same_as compares two questions of the same kind and answers'),
    ("switch", "{current_marker: ips, psychiatry_course", "{current_marker: ipx, psychiatry_course",
     "psychiatry_course", "when tests current_marker = 'ipx', which is not one of its answers ['ips', 'fusm']"),
    ("switch", '{current_marker: fusm, psychiatry_course: "no"}', '{current_marker: fusm, psychiatry_course: "nej"}',
     "psychiatry_course", "when tests psychiatry_course = 'nej', which is not one of its answers ['yes', 'no']"),
    ("leave", "      - when: {leave_start_date: {not_after: current_start_date}}",
     "      - when: {current_marker: {same_as: phase}}", "leave_start_date",
     "when current_marker: same_as compares two questions of the same kind and answers"),
    ("error", "correct_marker: {same_as: wrong_marker}", "wrong_start_date: {same_as: wrong_person}",
     "correct_start_date", "when wrong_start_date: same_as compares two questions of the same kind and answers"),
    ("move_out", "{move_date: {closed_after_months: 3}}", "{move_date: {closed_after_months: 0}}", "move_date",
     'when move_date: closed_after_months takes a date question and a positive whole number'),
    ("move_out", "{move_date: {closed_after_months: 3}}", "{move_date: {closed_after_months: \"3\"}}", "move_date",
     'when move_date: closed_after_months takes a date question and a positive whole number'),
    ("move_out", "{move_date: {closed_after_months: 3}}", "{move_date: {closed_after_months: true}}", "move_date",
     'when move_date: closed_after_months takes a date question and a positive whole number'),
    ("move_out", "{move_date: {closed_after_months: 3}}", "{in_job_or_education: {closed_after_months: 3}}",
     "move_date", 'when in_job_or_education: closed_after_months takes a date question and a positive whole number'),
    ("switch", "      - when: {new_start_date: {before: current_start_date}}\n        message: before_current_start",
     "      - when: {new_start_date: {before: current_start_date}}", "new_start_date", "reject rule lacks message"),
    ("switch", "      - when: {new_start_date: {before: current_start_date}}\n        message: before_current_start",
     "      - when: {}\n        message: before_current_start", "new_start_date",
     "a reject rule needs at least one condition"),
    ("switch", "        message: before_current_start", "        message: \"\"", "new_start_date",
     "message must be a non-empty string, not ''"),
    # outcomes
    ("switch", "    result: no_change\n    effect: unchanged\n    source: \"000: Målgruppekriterier\"\n  still_fusm",
     "    result: nothing\n    effect: unchanged\n    source: \"000: Målgruppekriterier\"\n  still_fusm", "still_ips",
     f"result 'nothing' is not one of {list(RESULTS)}"),
    ("switch", "    result: no_change\n    effect: unchanged\n    source: \"000: Målgruppekriterier\"\n  still_fusm",
     "    result: no_change\n    effect: stays\n    source: \"000: Målgruppekriterier\"\n  still_fusm", "still_ips",
     f"effect 'stays' is not null or one of {list(EFFECTS)}"),
    ("switch", "    result: no_change\n    effect: unchanged\n    source: \"000: Målgruppekriterier\"\n  still_fusm",
     "    result: no_change\n    use_flow: error\n    effect: unchanged\n    source: \"000: Målgruppekriterier\"\n"
     "  still_fusm", "still_ips", "use_flow goes with result use_flow, and only there"),
    ("switch", "    result: use_flow\n    use_flow: error\n", "    result: use_flow\n", "wrong_from_start",
     "use_flow goes with result use_flow, and only there"),
    ("switch", "    result: ask_star\n    gap: X-13\n", "    result: ask_star\n", "effort_ends",
     "an ask_star outcome names the gap in the guide (gap:), and only it does"),
    ("switch", "    result: no_change\n    effect: unchanged\n    source: \"000: Målgruppekriterier\"\n  still_fusm",
     "    result: no_change\n    gap: X-13\n    effect: unchanged\n    source: \"000: Målgruppekriterier\"\n"
     "  still_fusm", "still_ips", 'an ask_star outcome names the gap in the guide (gap:), and only it does'),
    ("switch", "    result: no_change\n    effect: unchanged\n    source: \"000: Målgruppekriterier\"\n  still_fusm",
     "    result: no_change\n    effect: unchanged\n    source: \"000: Målgruppekriterier\"\n    actions:\n"
     "      - {do: create, marker: ips, date: {same_day: new_start_date}}\n  still_fusm", "still_ips",
     "a register outcome has actions, and only it does"),
    ("switch", "carry: {wrong_marker: current_marker, wrong_start_date: current_start_date,",
     "carry: {wrong_marker: current_marker, wrong_start_date: the_start,", "wrong_from_start",
     "carry maps the next flow's question ids to questions of this flow, {value: answer} or {other_than: question}"),
    ("switch", SWITCH_CARRY, "carry: [current_marker]",
     "wrong_from_start", "carry maps the next flow's question ids to questions of this flow"),
    ("switch", 'wrong_person: {value: "no"}', "wrong_person: {value: 1}", "wrong_from_start",
     'carry gives \'wrong_person\' a value that is not text (quote yes/no: "yes")'),
    ("switch", "correct_marker: {other_than: current_marker}", "correct_marker: {other_than: new_start_date}",
     "wrong_from_start", "carry gives 'correct_marker' the other option of 'new_start_date', which is not a "
     "two-option choice question of this flow"),
    ("move_out", "deadline: {months_after: move_date, months: 3}\n  leaves_unless",
     "deadline: {months_after: move_date}\n  leaves_unless", "leaves_group", "deadline lacks months"),
    ("move_out", "deadline: {months_after: move_date, months: 3}\n  leaves_unless",
     "deadline: {months_after: move_date, months: 0}\n  leaves_unless", "leaves_group",
     "deadline months must be a positive whole number"),
    ("move_out", "deadline: {months_after: move_date, months: 3}\n  leaves_unless",
     "deadline: {months_after: move_date, months: true}\n  leaves_unless", "leaves_group",
     "deadline months must be a positive whole number"),
    ("move_out", "deadline: {months_after: move_date, months: 3}\n  leaves_unless",
     "deadline: {months_after: in_job_or_education, months: 3}\n  leaves_unless", "leaves_group",
     "'in_job_or_education' is not a date question of this flow"),
    ("switch", "    effect: unchanged\n    source: \"000: Målgruppekriterier\"\n  still_fusm",
     "    effect: unchanged\n  still_fusm", "still_ips", "outcome lacks source"),
    ("switch", STILL_IPS, STILL_IPS + "    warnings: far_past\n", "still_ips", "warnings must be a list"),
    ("switch", STILL_IPS, STILL_IPS + "    warnings: [x]\n", "still_ips",
     f"warning 'x' is not one of {list(WARNINGS)}"),
    ("switch", STILL_IPS, STILL_IPS + "    warnings: [{far_past: {nowhere: ips}}]\n", "still_ips",
     "when tests 'nowhere', which is not a question of this flow"),
    ("switch", "correct_marker: {other_than: current_marker}",
     "correct_marker: {other_than: current_marker, value: ips}", "wrong_from_start",
     "carry maps the next flow's question ids to questions of this flow, {value: answer} or "
     "{other_than: question}"),
    ("switch", "correct_marker: {other_than: current_marker}", "correct_marker: other_than_current_marker",
     "wrong_from_start", "carry maps the next flow's question ids to questions of this flow, {value: answer} or "
     "{other_than: question}"),
    ("switch", "correct_marker: {other_than: current_marker}", "correct_marker: {other_than: psychiatry_course}",
     "wrong_from_start", "carry gives 'correct_marker' the other option of 'psychiatry_course', which is not a "
     "two-option choice question of this flow"),
    # actions and markers
    ("start", "date: {same_day: start_date}", "at: {same_day: start_date}", "registered", "action lacks date"),
    ("start", '{answer: psychiatry_course, map: {"yes": ips, "no": fusm}}', "ipx", "registered",
     "marker 'ipx' is not one of the programme's ['ips', 'fusm']"),
    ("start", "      - do: create\n", "      - do: open\n", "registered", "action do 'open' is not create or end"),
    ("start", "date: {same_day: start_date}", "date: {}", "registered",
     "action date names one rule of ['day_before', 'same_day', 'own_start']"),
    ("start", "date: {same_day: start_date}", "date: {same_day: start_date, day_before: start_date}", "registered",
     "action date names one rule of ['day_before', 'same_day', 'own_start']"),
    ("start", "date: {same_day: start_date}", "date: {next_day: start_date}", "registered",
     "action date has unknown key(s) next_day"),
    ("start", "date: {same_day: start_date}", "date: {same_day: psychiatry_course}", "registered",
     "'psychiatry_course' is not a date question of this flow"),
    ("leave", "        marker_start: current_start_date", "        marker_start: current_marker", "leave_registered",
     "'current_marker' is not a date question of this flow"),
    ("error", "        other_person: wrong_person\n  # The correct marker goes on another",
     "        other_person: correct_marker\n  # The correct marker goes on another", "error_corrected",
     "other_person names a yes/no question of this flow"),
    ("error", "        other_person: wrong_person\n  # The correct marker goes on another",
     "        other_person: somebody\n  # The correct marker goes on another", "error_corrected",
     "other_person names a yes/no question of this flow"),
    ("start", '{answer: psychiatry_course, map: {"yes": ips, "no": fusm}}', '{answer: psychiatry_course, key: ips}',
     "registered", "marker has unknown key(s) key"),
    ("start", '{answer: psychiatry_course, map: {"yes": ips, "no": fusm}}',
     '{answer: psychiatry_course, other_than: psychiatry_course}', "registered",
     "marker is a key, {answer: q}, {answer: q, map: {...}} or {other_than: q}"),
    ("start", '{answer: psychiatry_course, map: {"yes": ips, "no": fusm}}', '{answer: psychiatric_course}',
     "registered", "marker refers to {'answer': 'psychiatric_course'}, which is not a question of this flow"),
    ("start", '{answer: psychiatry_course, map: {"yes": ips, "no": fusm}}', '{answer: psychiatry_course}',
     "registered", "marker from psychiatry_course: every answer must map to a marker of ['ips', 'fusm']"),
    ("start", '{answer: psychiatry_course, map: {"yes": ips, "no": fusm}}', '{answer: psychiatry_course, map: {"yes": ips}}',
     "registered", "marker from psychiatry_course: every answer must map to a marker of ['ips', 'fusm']"),
]


@pytest.mark.parametrize("flow, old, new, node, problem", BROKEN, ids=[f"{b[0]}-{i}" for i, b in enumerate(BROKEN)])
def test_every_loader_error_names_file_node_and_problem(programme_copy: Path, flow: str, old: str, new: str,
                                                        node: str, problem: str) -> None:
    path = _break(programme_copy, flow, old, new)
    message = _error(path)
    assert message == f"{path}: {f'node {node!r}' if node else 'top level'}: {problem}"


def test_a_flow_file_read_alone_keeps_its_facts(programme_copy: Path) -> None:
    spec = load_flow_spec(programme_copy / "move_out.yaml", load_programme(programme_copy))
    assert (spec.id, spec.edition, spec.start) == ("move_out", "ungeloeftet-2025.2", "in_job_or_education")
    assert spec.title == "Den unge fraflytter kommunen" and spec.source == "000: Den unge fraflytter kommunen"
    switch = load_flow_spec(programme_copy / "switch.yaml", load_programme(programme_copy))
    assert switch.questions["current_marker"].branches == (Branch((), "psychiatry_course"),)  # a plain next
    assert switch.outcomes["wrong_from_start"].carry_fixed == (
        ("correct_registration_needed", "value", "yes"), ("wrong_person", "value", "no"),
        ("correct_marker", "other_than", "current_marker"))
    leaves, stays = spec.outcomes["leaves_group"], spec.outcomes["counts_while_in_job_or_education"]
    assert (leaves.deadline_from, leaves.deadline_months, stays.deadline_from, stays.deadline_months) == (
        "move_date", 3, None, 0)
    assert leaves.source == "000: Den unge fraflytter kommunen"
    _break(programme_copy, "move_out", "deadline: {months_after: move_date, months: 3}",
           "deadline: {months_after: move_date, months: 1}")
    spec = load_flow_spec(programme_copy / "move_out.yaml", load_programme(programme_copy))
    assert spec.outcomes["leaves_group"].deadline_months == 1  # one month is a deadline too


def test_a_warning_may_hold_when_an_answer_is_a_choice(programme_copy: Path) -> None:
    path = _break(programme_copy, "switch", STILL_IPS,
                  STILL_IPS + "    warnings: [{far_past: {current_marker: ips}}]\n")
    outcome = load_flow_spec(path, load_programme(programme_copy)).outcomes["still_ips"]
    assert outcome.warnings == (WarningRule("far_past", (Condition("current_marker", "equals", "ips"),)),)


def test_closed_after_months_takes_one_and_the_conditions_after_it(programme_copy: Path) -> None:
    path = _break(programme_copy, "move_out", "{move_date: {closed_after_months: 3}}",
                  "{move_date: {closed_after_months: 1}, job_or_education_within_3_months: not_yet}")
    branch = load_flow_spec(path, load_programme(programme_copy)).questions["move_date"].branches[0]
    assert branch.conditions == (Condition("move_date", "closed_after_months", "1"),
                                 Condition("job_or_education_within_3_months", "equals", "not_yet"))


def test_the_other_of_two_markers_needs_a_programme_of_two(programme_copy: Path) -> None:
    _break(programme_copy, "programme", '  fusm: "Ungeløftet – Flere unge skal med"\n',
           '  fusm: "Ungeløftet – Flere unge skal med"\n  third: "En tredje"\n')
    path = programme_copy / "switch.yaml"
    assert _error(path) == f"{path}: node 'switched': other_than needs a programme with exactly two markers"


def test_a_checker_without_a_programme_knows_no_markers() -> None:
    with pytest.raises(FlowError) as caught:
        _marker(Checker(Path("x.yaml")), "ips", {})
    assert str(caught.value) == "x.yaml: top level: marker 'ips' is not one of the programme's []"
