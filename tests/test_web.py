"""The web chat without a browser (Starlette's TestClient): the terminal's scenarios, the commands and buttons, resume,
the STAR hand-over and the support team's log, all through plain forms and redirects."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from markupsafe import Markup

from bot.cli.main import main
from bot.config import ConfigError
from bot.channels.web.settings import TrustedHeader, read_web_settings
from storage import log as decision_log
from storage.db import open_database
from storage.records import Staff, load_dialogue
from bot.channels.web.middleware import TURNS_KEPT
from storage.sessions import PRUNE_EVERY
from tests.scenarios import load_scenarios
from tests.web_client import Browser, make_app

SCENARIOS = load_scenarios()


def _pending(db_path: Path, user: str = "demo") -> str | None:
    row = sqlite3.connect(db_path).execute("SELECT state FROM dialogues WHERE channel = 'web' AND staff_id = ?",
                                           (user,)).fetchone()
    return ((json.loads(row[0]).get("pending") or {}).get("kind")) if row else None


@pytest.fixture(scope="module")
def shared_app(rulebook: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One server for all scenarios, behind a login proxy on 127.0.0.1: each scenario is its own member of staff."""
    proxy = TrustedHeader("X-Remote-User", None, None, (ipaddress.ip_network("127.0.0.1/32"),))
    path = tmp_path_factory.mktemp("web") / "ungebot.db"
    return make_app(path, rulebook, demo=False, trusted=proxy, allowed_users=frozenset(
        f"sagsbehandler-{index}" for index in range(len(SCENARIOS)))), path


@pytest.mark.parametrize("index", range(len(SCENARIOS)), ids=[s["id"] for s in SCENARIOS])
def test_every_scenario_through_the_web(index: int, shared_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    scenario, (app, path), user = SCENARIOS[index], shared_app, f"sagsbehandler-{index}"
    monkeypatch.setenv("UNGEBOT_TODAY", scenario["today"].isoformat())
    with Browser(app, headers={"X-Remote-User": user}) as browser:
        browser.open()
        if scenario["flow"] != "situation":
            browser.type(scenario["flow"])  # the router's answer, by its key as a caseworker may type it
        for _, text in scenario["answers"]:
            assert browser.type(text).status_code == 303
            if _pending(path, user) == "confirm_date":
                browser.press("Ja")
        assert "message-error" not in browser.page  # no answer was refused on the way
    expect = scenario["expect"]
    decisions = decision_log.find(open_database(path), decision_log.Filters(user=user), limit=5)
    if expect["use_flow"]:  # the router hands over to the flow (which may decide on arrival)
        assert [d["flow"] for d in decisions] in ([], [expect["use_flow"]])
        assert expect["use_flow"] in str(load_dialogue(open_database(path), Staff("web", user)))
        return
    assert len(decisions) == 1 and decisions[0]["channel"] == "web" and decisions[0]["staff_id"] == user
    outcome = decisions[0]["outcome"]
    assert outcome["result"] == expect["result"] and outcome["outcome"] == expect["outcome"]
    assert [(a["do"], a["marker"], a["date"]) for a in outcome["actions"]] == [
        (a["do"], a["marker"], a["date"]) for a in expect["actions"]]


def test_the_switch_example_with_buttons_back_help_and_a_new_case(rulebook: Any, private_database: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")
    with Browser(make_app(private_database, rulebook)) as browser:
        page = browser.open()
        assert '<html lang="da">' in page and "Hvad er der sket med den unge?" in page
        assert "help" not in browser.actions() or browser.actions()["help"]
        browser.press("Skifter målgruppe (IPS ↔ Flere unge skal med)")
        assert browser.messages()[-2] == "Skifter målgruppe (IPS ↔ Flere unge skal med)"  # the echo
        browser.press("Ungeløftet – Flere unge skal med")
        browser.submit(action="help")
        assert "Kilde" in browser.page or "kilde" in browser.page
        browser.press("Ja")
        browser.type("12.10.2025")
        browser.submit(action="back")
        assert any(message.startswith("Jeg har fjernet dit svar på") for message in browser.messages())
        browser.type("12/10-25")
        browser.type("1/2-26")
        text = " ".join(browser.messages())
        assert "31. januar 2026" in text and "1. februar 2026" in text
        assert set(browser.actions()) == {"back", "star"}
        assert list(browser.options()) == ["Hvorfor?", "Ret et svar", "Ny sag"]
        browser.press("Hvorfor?")
        assert any("1. februar 2026 − 1 dag = slutdato" in message for message in browser.messages())
        browser.press("Ny sag")
        assert browser.messages()[-1] == "Hvad er der sket med den unge?"


def test_with_javascript_the_same_form_answers_with_json(rulebook: Any, private_database: Path) -> None:
    with Browser(make_app(private_database, rulebook)) as browser:
        browser.open()
        response = browser.client.post("/svar", data={**browser.hidden(), "option": "1"},
                                       headers={"X-Ungebot-Fetch": "1"})
        body = response.json()
        assert response.status_code == 200 and "Hvilken markør har den unge nu?" in body["messages"]
        assert 'name="step" value="1"' in body["controls"] and "Skifter målgruppe" in body["messages"]


def test_a_dialogue_resumes_after_a_restart(rulebook: Any, private_database: Path) -> None:
    with Browser(make_app(private_database, rulebook)) as browser:
        browser.open()
        browser.type("skifter målgruppe")
        browser.type("ips")
    with Browser(make_app(private_database, rulebook)) as fresh:  # a new server, and a browser without the cookie
        fresh.open()
        assert any("Du fortsætter sagen fra sidst" in message for message in fresh.messages())
        assert fresh.messages()[-1].startswith("Har den unge nu et forløb i psykiatrien?")


def test_a_restart_at_a_far_date_shows_the_recap_and_that_date_again(rulebook: Any, private_database: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")
    with Browser(make_app(private_database, rulebook)) as browser:
        browser.open()
        for text in ("skifter målgruppe", "Flere unge skal med", "ja", "12.10.2025", "1.3.2027"):
            browser.type(text)
        assert _pending(private_database) == "confirm_date"
    with Browser(make_app(private_database, rulebook)) as fresh:  # a new server on the same database
        fresh.open()
        page = "\n".join(fresh.messages())
        assert "Du fortsætter sagen fra sidst: Den unge skifter målgruppe" in page
        assert "12. oktober 2025" in page and "1. marts 2027 ligger mere end et år frem" in fresh.messages()[-1]
        assert set(fresh.options()) == {"Ja", "Nej"}
        fresh.press("Ja")  # confirms the date on the screen
        outcome = fresh.messages()[-1]
        assert "Sæt slutdato 28. februar 2027" in outcome and "med startdato 1. marts 2027" in outcome


def test_a_restart_at_a_star_draft_shows_the_draft_in_full_before_sending(rulebook: Any, private_database: Path) -> None:
    with Browser(make_app(private_database, rulebook)) as browser:
        browser.open()
        browser.press("Noget andet")
        browser.submit(action="star")
        browser.type("En ung på døgnophold – hvad gælder?")
        assert _pending(private_database) == "star_confirm"
    with Browser(make_app(private_database, rulebook)) as fresh:
        fresh.open()
        last = fresh.messages()[-1]
        assert "Udkast til spørgsmål" in last and "En ung på døgnophold – hvad gælder?" in last
        assert set(fresh.options()) >= {"Send til STAR", "Slet udkastet"}
        fresh.press("Send til STAR")
        assert any("spørgsmål nr. 1 er ikke sendt endnu" in message for message in fresh.messages())
    rows = sqlite3.connect(private_database).execute("SELECT status FROM star_questions").fetchall()
    assert rows == [("handed_over",)]


def test_an_old_form_is_harmless_and_a_cpr_number_is_never_echoed(rulebook: Any, private_database: Path) -> None:
    with Browser(make_app(private_database, rulebook)) as browser:
        browser.open()
        old = browser.hidden()
        browser.type("2")
        response = browser.client.post("/svar", data={**old, "option": "0"}, follow_redirects=True)
        assert "sagen er gået videre" in response.text and "Hvilken markør har den unge nu?" in response.text
        browser.open()
        browser.type("Peter 010203-1234")
        assert "010203" not in browser.page and "Peter" not in browser.page
        assert "CPR" in browser.page
        db = sqlite3.connect(private_database)
        stored = db.execute("SELECT group_concat(data) FROM web_sessions").fetchone()[0]
        messages = db.execute("SELECT group_concat(messages) FROM web_turns").fetchone()[0]
        assert "010203" not in stored and "010203" not in messages and "CPR" in messages


def test_star_hand_over_and_faq_from_the_outcome(rulebook: Any, private_database: Path) -> None:
    with Browser(make_app(private_database, rulebook)) as browser:
        browser.open()
        browser.press("Noget andet")
        browser.submit(action="star")
        browser.type("Hvordan registreres en ung, der flytter midt i et forløb?")
        assert "star@star.dk" in browser.page and set(browser.options()) >= {"Send til STAR", "Slet udkastet"}
        browser.press("Send til STAR")
        assert any("spørgsmål nr. 1 er ikke sendt endnu" in message for message in browser.messages())
        browser.type("/faq flytter")
        assert "Jeg fandt ingen svar fra STAR" in browser.page
    row = sqlite3.connect(private_database).execute("SELECT status, channel FROM star_questions").fetchone()
    assert row == ("handed_over", "web")


def test_a_question_confirmed_for_star_is_queued_in_the_commit_of_the_confirmation(
        rulebook: Any, private_database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With SMTP the background sender sends what is queued: the question is queued with the answer that confirmed
    it, so a crash right after that commit (before the page is answered) cannot leave it a draft nobody sends."""
    from bot.config import read_mail_settings

    app = make_app(private_database, rulebook)
    with Browser(app) as browser:  # started without SMTP: no background sender in this test
        chat = app.state.web.chat
        chat.mail = chat.star.mail = read_mail_settings(environ={
            "UNGEBOT_DB": str(private_database), "UNGEBOT_SMTP_HOST": "127.0.0.1",
            "UNGEBOT_SMTP_FROM": "ungebot@testkommune.dk"})
        browser.open()
        browser.press("Noget andet")
        browser.submit(action="star")
        browser.type("Hvordan registreres en ung, der flytter midt i et forløb?")

        def killed(star_send: int | None) -> list[Any]:  # the process dies right after the commit
            raise SystemError("killed")

        monkeypatch.setattr(chat, "deliver", killed)
        with pytest.raises(SystemError):
            browser.press("Send til STAR")
    db = sqlite3.connect(private_database)
    assert db.execute("SELECT status FROM star_questions").fetchall() == [("queued",)]
    assert db.execute("SELECT count(*) FROM star_outbox").fetchone() == (1,)


def test_the_log_is_for_support_staff(rulebook: Any, private_database: Path) -> None:
    with Browser(make_app(private_database, rulebook)) as browser:
        browser.open()
        browser.press("Noget andet")
        page = browser.open("/log")
        assert "De seneste resultater" in page
        assert "Resultat nr. 1" in browser.open("/log?id=1")
        assert "Resultat nr. 1" in browser.open("/log?id=1") and "Noget andet" in browser.page
        browser.open()
        browser.type("/log")
        assert "De seneste resultater" in browser.page


DOCUMENT_ONLY = ("referrer-policy", "cross-origin-opener-policy", "permissions-policy")


def test_security_headers_and_cookie(rulebook: Any, private_database: Path) -> None:
    with Browser(make_app(private_database, rulebook)) as browser:
        response = browser.client.get("/")
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "Secure" in cookie and "SameSite=lax" in cookie
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert all(name in response.headers for name in DOCUMENT_ONLY)
        assert browser.client.get("/finnes-ikke").status_code == 404
        # An answer fetched by chat.js is JSON, never a document: OWASP's headers for an API response, and only those.
        browser.page = response.text
        answer = browser.client.post("/svar", data={**browser.hidden(), "option": "1"}, headers={"X-Ungebot-Fetch": "1"})
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json" and {
            name: answer.headers.get(name) for name in ("content-security-policy", "x-content-type-options",
                                                        "cache-control", "x-frame-options",
                                                        "strict-transport-security", *DOCUMENT_ONLY)} == {
            "content-security-policy": "default-src 'none'; frame-ancestors 'none'", "x-content-type-options": "nosniff",
            "cache-control": "no-store", "x-frame-options": "DENY",
            "strict-transport-security": response.headers.get("strict-transport-security"),  # as on the pages
            "referrer-policy": None, "cross-origin-opener-policy": None, "permissions-policy": None}
        browser.page = answer.json()["controls"]
        without_script = browser.client.post("/svar", data={**browser.hidden(), "option": "0"})  # a redirect: all
        assert without_script.status_code == 303 and all(name in without_script.headers for name in DOCUMENT_ONLY)
    with Browser(make_app(private_database, rulebook, teams=True)) as browser:
        response = browser.client.get("/")
        assert "https://teams.microsoft.com" in response.headers["content-security-policy"]
        assert "x-frame-options" not in response.headers
        assert "SameSite=none" in response.headers["set-cookie"]
        browser.page = response.text
        answer = browser.client.post("/svar", data={**browser.hidden(), "option": "1"}, headers={"X-Ungebot-Fetch": "1"})
        assert answer.status_code == 200 and "x-frame-options" not in answer.headers
        assert answer.headers["content-security-policy"].startswith("default-src 'none'; frame-ancestors 'self' https://")


def test_an_unexpected_error_gets_our_page_and_the_security_headers_and_json_gets_hsts(
        rulebook: Any, private_database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = TrustedHeader("X-Remote-User", None, None, (ipaddress.ip_network("127.0.0.1/32"),))
    app = make_app(private_database, rulebook, demo=False, trusted=proxy, allowed_users=frozenset({"anna"}))
    with Browser(app, headers={"X-Remote-User": "anna"}, raise_server_exceptions=False) as browser:
        browser.open()
        answer = browser.client.post("/svar", data={**browser.hidden(), "option": "1"}, headers={"X-Ungebot-Fetch": "1"})
        assert answer.status_code == 200 and answer.headers["strict-transport-security"] == "max-age=31536000"
        browser.page = answer.json()["controls"]

        async def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("a bug")

        monkeypatch.setattr(app.state.web.chat, "take", broken)
        fetched = browser.client.post("/svar", data={**browser.hidden(), "option": "0"},
                                      headers={"X-Ungebot-Fetch": "1"})
        assert fetched.status_code == 500 and "Noget gik galt" in fetched.json()["error"]
        assert fetched.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
        assert fetched.headers["strict-transport-security"] == "max-age=31536000"
        assert fetched.headers["x-content-type-options"] == "nosniff" and fetched.headers["cache-control"] == "no-store"
        page = browser.client.post("/svar", data={**browser.hidden(), "option": "0"})
        assert page.status_code == 500 and "Der skete en fejl" in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["x-frame-options"] == "DENY" and all(name in page.headers for name in DOCUMENT_ONLY)


def test_a_long_cookie_header_is_read_but_not_kept_in_memory(rulebook: Any, private_database: Path) -> None:
    from bot.channels.web.middleware import TOKEN_HEADER_KEPT, SessionMiddleware

    app = make_app(private_database, rulebook)
    with Browser(app) as browser:
        browser.open()
        browser.type("skifter målgruppe")
        layer = app.middleware_stack
        while not isinstance(layer, SessionMiddleware):
            layer = layer.app
        kept = dict(layer._tokens)
        token = browser.client.cookies["ungebot_session"]
        long = f"andet={'x' * TOKEN_HEADER_KEPT}; ungebot_session={token}"
        browser.client.cookies.clear()
        page = browser.client.get("/", headers={"Cookie": long}).text
        assert "skifter målgruppe" in page  # the same session, read from the long header
        assert layer._tokens == kept  # ... which was not remembered
        browser.client.get("/", headers={"Cookie": f"ungebot_session={token}"})
        assert list(layer._tokens.values())[-1] == token  # a short one is


def test_without_demo_and_without_login_it_refuses_to_start(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ConfigError, match="ikke sat et login op"):
        read_web_settings(environ={})
    assert main(["web"]) == 2
    assert "ungebot web --demo" in capsys.readouterr().err
    assert read_web_settings(demo=True, host="0.0.0.0", environ={}).host == "127.0.0.1"
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        read_web_settings(environ={"UNGEBOT_WEB_TRUSTED_HEADER": "X-Remote-User"})


def test_learning_has_its_own_page_with_the_same_forms(rulebook: Any, private_database: Path) -> None:
    with Browser(make_app(private_database, rulebook)) as browser:
        browser.open()
        response = browser.client.post("/svar", data={**browser.hidden(), "text": "/lær"})
        assert response.status_code == 303 and response.headers["location"] == "/laer"
        page = browser.open("/laer")
        assert "Lær registreringerne" in page and browser.options(), page[-1500:]
        first = sorted(browser.options().items(), key=lambda item: int(item[1]))[0][0]
        response = browser.client.post("/laer", data={**browser.hidden(), "option": "0"})
        assert response.status_code == 303
        browser.open("/laer")
        assert first in browser.messages()  # the choice is echoed, and the trainer answered it
        stale = browser.client.post("/laer", data={**browser.hidden(), "step": "-1", "option": "0"},
                                    follow_redirects=True)
        assert "Den knap hører til et tidligere trin" in stale.text
        assert browser.client.post("/laer", data={"option": "0"}).status_code == 403
    decisions = sqlite3.connect(private_database).execute("SELECT count(*) FROM decisions").fetchone()[0]
    assert decisions == 0


def test_an_answer_alone_is_told_from_the_loops_queue_and_a_task_waiting_to_start_is_company(
        rulebook: Any, private_database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chat = make_app(private_database, rulebook).state.web.chat
    scans: list[int] = []
    all_tasks = asyncio.all_tasks

    def counted() -> set[asyncio.Task[Any]]:
        scans.append(1)
        return all_tasks()

    monkeypatch.setattr(asyncio, "all_tasks", counted)

    async def run() -> None:
        await asyncio.sleep(0)
        chat._taking = 1  # this answer, being taken
        assert chat._alone() is True and scans == []  # nothing ready to run: alone, and no task scanned
        waiting = asyncio.create_task(asyncio.sleep(0))  # a request the server has just received
        assert chat._alone() is False and scans == [1]  # the queue holds its first step: the tasks scanned
        await waiting
        later = asyncio.get_running_loop().call_soon(lambda: None)  # something ready that is no request
        assert chat._alone() is True and scans == [1, 1]
        later.cancel()

    asyncio.run(run())


def test_answers_arriving_together_share_a_commit_and_one_users_double_press_applies_once(
        rulebook: Any, private_database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UNGEBOT_TODAY", "2026-01-15")
    proxy = TrustedHeader("X-Remote-User", None, None, (ipaddress.ip_network("127.0.0.1/32"),))
    users = [f"sagsbehandler-{index}" for index in range(5)]
    app = make_app(private_database, rulebook, demo=False, trusted=proxy, allowed_users=frozenset(users))
    chat = app.state.web.chat
    durable, alone = chat.journal.durable, []

    async def recorded(write: Any, **flags: bool) -> Any:
        alone.append(flags.get("alone", False))
        return await durable(write, **flags)

    monkeypatch.setattr(chat.journal, "durable", recorded)

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        clients = [httpx.AsyncClient(transport=transport, base_url="https://testserver",
                                     headers={"X-Remote-User": user}) for user in users]
        forms = []
        for client in clients:
            page = (await client.get("/")).text
            forms.append({**dict(re.findall(r'name="(csrf|step)" value="([^"]*)"', page)), "option": "0"})
        # Every user presses the first option at once; the first user presses it twice (a double click).
        posts = [client.post("/svar", data=form, headers={"X-Ungebot-Fetch": "1"})
                 for client, form in zip(clients, forms)]
        posts.append(clients[0].post("/svar", data=forms[0], headers={"X-Ungebot-Fetch": "1"}))
        commits, writes = chat.journal.commits, chat.journal.writes
        responses = list(await asyncio.gather(*posts))
        assert chat.journal.commits - commits < len(users)  # answers that came together shared a commit
        assert alone == [False] * 5  # ... none of them committed at once, on its own
        # An answer alone is committed at once (no pass of the event loop for company that cannot come).
        form = dict(re.findall(r'name="(csrf|step)" value="([^"]*)"', responses[1].json()["controls"]))
        commits, writes = chat.journal.commits, chat.journal.writes
        await clients[1].post("/svar", data={**form, "option": "0"}, headers={"X-Ungebot-Fetch": "1"})
        assert alone[5:] == [True] and (chat.journal.commits - commits, chat.journal.writes - writes) == (1, 1)
        for client in clients:
            await client.aclose()
        return responses

    responses = asyncio.run(run())
    assert [response.status_code for response in responses] == [200] * 6
    texts = [response.json()["messages"] for response in responses]
    assert all("Starter et forløb" in text for text in texts[:5])
    assert "gået videre" in texts[5]  # the second press of the same form is only told that the case moved on
    db = sqlite3.connect(private_database)
    for user in users:  # each answer applied once: the dialogue is one step on, in the flow chosen
        state = json.loads(db.execute("SELECT state FROM dialogues WHERE staff_id = ?", (user,)).fetchone()[0])
        assert state["step"] == (2 if user == users[1] else 1)  # (the second user answered once more, alone)
        assert user == users[1] or state["segments"][-1]["flow"] == "start"


def test_the_page_keeps_its_last_messages_as_a_row_per_turn(rulebook: Any, private_database: Path) -> None:
    limits = {"login": (10, 60.0), "answer": (1000, 60.0)}
    with Browser(make_app(private_database, rulebook, limits=limits)) as browser:
        browser.open()
        for _ in range(130):  # each wrong answer is a turn: the echo, a short error and the question
            browser.type("hverken eller")
        page = browser.page
        db = sqlite3.connect(private_database)
        rows = db.execute("SELECT count(*), min(seq), max(seq) FROM web_turns WHERE pane = 'chat'").fetchone()
        # The oldest turns are forgotten as new ones come (every PRUNE_EVERY turns), the rest kept in order.
        assert TURNS_KEPT <= rows[0] < TURNS_KEPT + PRUNE_EVERY and rows[2] - rows[1] == rows[0] - 1
        assert page.count('class="message message-') == 120 and page.count("hverken eller") >= 35
        assert page.count('id="seneste"') == 1 and 'id="seneste" class="message message-bot' in page
        assert len(db.execute("SELECT data FROM web_sessions").fetchone()[0]) < 500  # the session stays small
        browser.client.post("/logout", data={"csrf": browser.hidden()["csrf"]})
        assert db.execute("SELECT count(*) FROM web_turns").fetchone()[0] == 0  # logged out: gone with it


def test_answer_forms_rendered_once_per_set_of_buttons_are_the_templates_own() -> None:
    from bot.channels.web.render import ControlsCache, Forms, page_environment

    environment = page_environment()
    cache = ControlsCache(environment, size=2)
    forms = [Forms(("Ja", "Nej <b>"), (("back", "Tilbage"),), 3, False, "question"),
             Forms((), (), 4, True, "question"),
             Forms((), (("new", "Ny sag"),), 5, False, "outcome", "/laer", "Svar med knapperne.")]
    for made in forms * 2 + [forms[0]._replace(step=12)]:
        for csrf, focus in (("abc", True), ('"><script>', False), ("abc", False)):
            direct = environment.get_template("controls.j2").render(controls=made, csrf=csrf, focus=focus)
            assert cache.render(made, csrf, focus) == direct
            assert json.loads(cache.json(made, csrf, focus)) == direct
            assert Forms.read(made.stored()) == made and json.loads(made.stored())["step"] == made.step
    assert "&lt;script&gt;" in cache.render(forms[0], "<script>", True) and len(cache._rendered) == 2
    assert "Du kan også skrive /hjælp" in cache.render(forms[0], "abc", True)  # the usual hint
    assert 'action="/laer"' in cache.render(forms[2], "abc", True) and "Svar med knapperne." in cache.render(
        forms[2], "abc", True)
    # A turn stored before the answer forms were Forms (a dict's JSON) reads back as the same forms.
    old = {"options": ["Ja"], "actions": [["back", "Tilbage"]], "step": 3, "date": False, "kind": "question"}
    assert Forms.read(json.dumps(old)) == Forms(("Ja",), (("back", "Tilbage"),), 3, False, "question")
    assert json.loads(Forms.read(json.dumps(old)).stored()) == old


@pytest.mark.parametrize("index", range(len(SCENARIOS)), ids=[s["id"] for s in SCENARIOS])
def test_the_buttons_a_reply_shows_are_those_a_press_is_read_against(index: int, rulebook: Any) -> None:
    """The web reads a pressed button against the options its last reply showed (kept in memory with the state);
    they must be the conversation's current options, on every step of every scenario and after the outcome."""
    from bot.chat.conversation import Conversation
    from bot.chat.dialogue import DialogueState, Segment
    from bot.chat.texts import Texts

    scenario = SCENARIOS[index]
    conversation, today = Conversation(rulebook, Texts(rulebook), "Testkommune"), scenario["today"]
    state = DialogueState([Segment(scenario["flow"])])
    typed = [text for _, text in scenario["answers"]] + ["/ret", "1", "/tilbage", "/hjælp", "/forfra", "nej"]
    for text in typed:
        turn = conversation.handle(state, text, today)
        if turn.replies and turn.replies[-1].options:
            assert turn.replies[-1].options == conversation.current_options(turn.state, today), text
        state = turn.state
        if state.pending and state.pending.get("kind") == "confirm_date":
            state = conversation.handle(state, "ja", today).state


def test_a_session_from_before_the_turn_rows_starts_its_page_again(rulebook: Any, private_database: Path) -> None:
    app = make_app(private_database, rulebook)
    with Browser(app) as browser:
        browser.open()
        browser.press("Skifter målgruppe (IPS ↔ Flere unge skal med)")
        db = sqlite3.connect(private_database)
        key, data = db.execute("SELECT key, data FROM web_sessions").fetchone()
        old = {**json.loads(data), "panes": {"chat": 5}, "controls": {"options": ["gammel"]},
               "transcript": [{"who": "bot", "kind": "info", "html": "gammel besked"}] * 120}
        with db:
            db.execute("UPDATE web_sessions SET data = ? WHERE key = ?", (json.dumps(old), key))
            db.execute("DELETE FROM web_turns")
        app.state.web.sessions.clear()  # a restarted server: nothing in memory
        page = browser.open()
        assert "gammel" not in page and 'name="step"' in page and "Du fortsætter sagen fra sidst" in page
        stored = json.loads(db.execute("SELECT data FROM web_sessions WHERE key = ?", (key,)).fetchone()[0])
        assert set(stored) == {"user", "csrf"}


def test_an_answer_writes_its_turn_and_dialogue_only_and_a_failed_request_leaves_no_session_in_memory(
        rulebook: Any, private_database: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app(private_database, rulebook)
    chat = app.state.web.chat
    with Browser(app) as browser:
        browser.open()
        statements: list[str] = []
        chat.db.set_trace_callback(statements.append)
        browser.press("Skifter målgruppe (IPS ↔ Flere unge skal med)")
        chat.db.set_trace_callback(None)
        # The session came from memory, and its row was left alone: one turn row and the dialogue, one commit.
        assert not any("web_sessions" in statement for statement in statements), statements
        assert sum("INSERT OR REPLACE INTO web_turns" in statement for statement in statements) == 1
        assert sum(statement == "COMMIT" for statement in statements) == 1
        token = browser.client.cookies["ungebot_session"]
        assert token in app.state.web.sessions
        assert "set-cookie" not in browser.client.get("/").headers  # set once, when the session was made

        def broken(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the disk went away")

        with monkeypatch.context() as patch, pytest.raises(RuntimeError):  # the client sees the error page
            patch.setattr(chat, "take", broken)
            browser.client.post("/svar", data={**browser.hidden(), "option": "0"})
        assert token not in app.state.web.sessions  # the next request reads the disk
        page = browser.open()
        assert "Hvilken markør har den unge nu?" in page and token in app.state.web.sessions
        db = sqlite3.connect(private_database)
        with db:  # the session expires (an idle day): memory and disk agree that it is gone
            db.execute("UPDATE web_sessions SET expires = '2000-01-01T00:00:00+00:00'")
        app.state.web.sessions[token].expires = datetime(2000, 1, 1, tzinfo=timezone.utc)
        page = browser.open()
        assert "Hvilken markør har den unge nu?" not in page.split("Du fortsætter sagen fra sidst")[0]
        assert browser.client.cookies["ungebot_session"] != token


def test_messages_are_the_templates_own_made_once_and_what_was_typed_is_escaped() -> None:
    from bot.channels.web.render import Messages, for_page, page_environment

    environment = page_environment()
    messages = Messages(environment, size=2)
    entries = [{"who": "me", "kind": "answer", "text": "<script>alert(1)</script> & {{ 7 * 7 }}"},
               {"who": "bot", "kind": "question", "html": "Hvad er der <b>sket</b>?"},
               {"who": "bot", "kind": "picture", "html": "", "src": "/laer/billede?flow=a&node=b", "alt": "Flow <a>"}]
    made = messages.render(entries)
    assert made == messages.render(entries)  # from memory the second time, the same
    for entry, html in zip(entries, made):
        direct = environment.get_template("message.j2").render(
            message={**entry, "html": Markup(entry["html"])} if entry["who"] == "bot" else entry).strip()
        assert html == direct
    assert "&lt;script&gt;" in made[0] and "<script>" not in made[0] and "<b>sket</b>" in made[1]
    assert "Flow &lt;a&gt;" in made[2] and "flow=a&amp;node=b" in made[2]
    page = environment.get_template("messages.j2").render(messages=for_page(made))
    assert page.count('id="seneste"') == 1 and page.count('class="message ') == 3
    assert for_page(made)[-1].startswith('<div id="seneste" class="message message-bot message-picture">')
    assert len(messages._made) == 2


def test_the_reply_to_chat_js_is_the_json_starlette_would_send() -> None:
    from starlette.responses import JSONResponse

    from bot.channels.web.render import (ControlsCache, Forms, Messages, for_page, messages_json, page_environment,
                                         reply)

    environment = page_environment()
    messages, forms = Messages(environment, size=2), ControlsCache(environment)
    typed = "æøå \"citat\" \\ \t \x01 \u2028 <b>" * 5  # longer than SHORT: made each time, not remembered
    made = messages.render([{"who": "me", "kind": "answer", "text": "Ja"},
                            {"who": "me", "kind": "answer", "text": typed},
                            {"who": "bot", "kind": "question", "html": "Hvad <b>nu</b>?\n\"Ja\""}])
    controls = Forms(("Ja", 'N"ej'), (("back", "Tilbage"),), 7, False, "question")
    for csrf in ("abc-_123", '"><script>\u2028\\'):
        for shown in (made, made[:2], made[:1]):
            sent = reply(messages, shown, forms.json(controls, csrf, focus=True))
            assert reply(messages, shown, forms.json(controls, csrf, focus=True), messages_json(messages, shown)).body \
                == sent.body  # written from the turn's remembered JSON: the same
            expected = JSONResponse({"messages": "\n".join(for_page(shown)),
                                     "controls": forms.render(controls, csrf, focus=True)})
            assert sent.body == expected.body and sent.headers["content-type"] == "application/json"
    assert messages.array(made) == json.dumps(made, ensure_ascii=False)  # as a turn stores them
    body = json.loads(sent.body)
    assert body["messages"].startswith('<div id="seneste" class="message message-me') and 'name="step" value="7"' in \
        body["controls"]


def test_a_turns_messages_are_stored_as_json_and_read_back_as_they_were(private_database: Path) -> None:
    from storage.sessions import append_turn, last_turn, load_messages, messages_array

    db = open_database(private_database)
    messages = ['<div class="message">"æøå" \\ \n\t\x01 \u2028 &lt;</div>', "", "{{ 7 * 7 }}"]
    controls = json.dumps({"options": ["Ja", 'N"ej'], "actions": [["back", "Tilbage"]], "step": 3})
    with db:
        append_turn(db, "token", "chat", 0, messages_array(messages), controls, keep=120)
    stored = db.execute("SELECT messages FROM web_turns").fetchone()[0]
    assert stored == json.dumps(messages, ensure_ascii=False) and load_messages(db, "token", "chat", 120) == messages
    assert last_turn(db, "token", "chat") == (0, controls) and last_turn(db, "token", "learn") is None


def test_a_turn_made_once_is_the_turn_made_each_time(rulebook: Any) -> None:
    """Turns remembers a turn's messages, their stored JSON and its answer forms by echo, replies and the state's part
    in the forms: what it gives is what making them gives, on every step of these scenarios (the step filled in)."""
    from bot.chat.conversation import Conversation
    from bot.chat.dialogue import DialogueState, Segment
    from bot.chat.texts import Texts
    from bot.channels.web.render import Messages, Turns, controls, entries, messages_json, page_environment

    conversation, environment = Conversation(rulebook, Texts(rulebook), "Testkommune"), page_environment()
    labels = {"new": "Ny sag", "back": "Tilbage", "star": "Spørg STAR", "today": "I dag"}
    turns, direct = Turns(Messages(environment), labels, "Hjælp", size=64), Messages(environment)
    for scenario in SCENARIOS[:12]:
        state = DialogueState([Segment(scenario["flow"])])
        typed = [text for _, text in scenario["answers"]] + ["/ret", "1", "/tilbage", "/hjælp", "/forfra", "x" * 101]
        for text in typed:
            turn = conversation.handle(state, text, scenario["today"])
            for echo in (None, text):
                made = direct.render(entries(echo, turn.replies))
                forms = controls(turn.replies, turn.state, labels, "Hjælp")
                expected = (made, json.dumps(made, ensure_ascii=False), forms, messages_json(direct, made))
                assert turns.make(echo, turn.replies, turn.state) == expected
                assert turns.make(echo, turn.replies, turn.state) == expected  # the second time from memory
            state = turn.state
    assert 0 < len(turns._made) <= 64


def test_a_turn_with_a_caseworkers_own_words_is_never_kept(rulebook: Any) -> None:
    """A draft for STAR quotes the question the caseworker typed, and /log lists decisions: neither is kept in the
    process-wide memory of turns and messages (only the dialogue's own row holds them)."""
    from bot.chat.dialogue import DialogueState, Reply, Segment
    from bot.channels.web.render import Messages, Turns, page_environment

    messages = Messages(page_environment())
    turns, state = Turns(messages, {"new": "Ny sag", "back": "Tilbage", "star": "Spørg STAR", "today": "I dag"},
                         "Hjælp"), DialogueState([Segment("switch")])
    draft = [Reply("Spørgsmål til STAR: må vi det her?", options=(("send", "Send"),), kind="draft")]
    turns.make(None, draft, state)
    turns.make("/log", [Reply("Seneste afgørelser: …")], state)
    assert turns._made == {} and messages._made == {}
    turns.make(None, [Reply("Hvad er der sket med den unge?", kind="question")], state)
    assert len(turns._made) == 1 and len(messages._made) == 1  # an ordinary turn is kept
