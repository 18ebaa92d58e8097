"""Who gets into the web chat: OpenID Connect against a fake provider on loopback (the real authorization-code flow
with PKCE), a login proxy's header, and the obvious attacks."""

from __future__ import annotations

import ipaddress
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.web.settings import Oidc, TrustedHeader
from tests.fake_oidc import FakeProvider
from tests.web_client import Browser, make_app

PROXY = TrustedHeader("X-Remote-User", "X-Remote-Name", "X-Remote-Groups", (ipaddress.ip_network("10.0.0.5/32"),))


@pytest.fixture(scope="module")
def provider() -> Iterator[FakeProvider]:
    with FakeProvider() as fake:
        yield fake


@pytest.fixture
def oidc_app(provider: FakeProvider, rulebook: Any, private_database: Path) -> Any:
    provider.mode, provider.user = "ok", {"sub": "karen-1", "name": "Karen Sagsbehandler", "groups": []}
    return make_app(private_database, rulebook, demo=False, oidc=Oidc(provider.url, "ungebot", "hemmelig"),
                    allowed_users=frozenset({"karen-1"}), support_groups=frozenset({"support-gruppe"}))


def _log_in(browser: Browser) -> httpx.Response:
    """The browser's round trip: to the provider and back to the callback."""
    start = browser.client.get("/login")
    assert start.status_code == 302 and "code_challenge_method=S256" in start.headers["location"]
    back = httpx.get(start.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    return browser.client.get(back.headers["location"].replace("https://testserver", ""))


def test_login_with_openid_connect_and_pkce(oidc_app: Any, provider: FakeProvider) -> None:
    with Browser(oidc_app) as browser:
        assert "Log ind" in browser.open() and "Logget ind som" not in browser.page
        before = browser.client.cookies.get("ungebot_session")
        checked = provider.pkce_checked
        response = _log_in(browser)
        assert response.status_code == 303 and provider.pkce_checked == checked + 1
        assert browser.client.cookies.get("ungebot_session") not in (None, before)  # a new session at login
        page = browser.open()
        assert "Logget ind som Karen Sagsbehandler" in page and "Hvad er der sket med den unge?" in page
        browser.type("noget andet")
        browser.client.post("/logout", data={"csrf": browser.hidden()["csrf"]})
        assert "Log ind" in browser.open() and "Hvad er der sket" not in browser.page
    row = sqlite3.connect(oidc_app.state.web.chat.db.execute("PRAGMA database_list").fetchone()[2]).execute(
        "SELECT staff_id, staff_name FROM decisions").fetchone()
    assert row == ("karen-1", "Karen Sagsbehandler")


@pytest.mark.parametrize("mode", ["bad_signature", "wrong_audience", "expired", "wrong_nonce"])
def test_a_bad_id_token_is_refused(oidc_app: Any, provider: FakeProvider, mode: str) -> None:
    provider.mode = mode
    with Browser(oidc_app) as browser:
        response = _log_in(browser)
        assert response.status_code == 400 and "Login mislykkedes" in response.text
        assert "Log ind" in browser.open() and "Logget ind som" not in browser.page


def test_a_user_not_on_the_list_is_refused_and_groups_give_roles(oidc_app: Any, provider: FakeProvider) -> None:
    provider.user = {"sub": "fremmed", "name": "Fremmed", "groups": ["andre"]}
    with Browser(oidc_app) as browser:
        response = _log_in(browser)
        assert response.status_code == 403 and "ikke på listen" in response.text
    provider.user = {"sub": "sofie-2", "name": "Sofie Support", "groups": ["support-gruppe"]}
    with Browser(oidc_app) as browser:
        _log_in(browser)
        assert "Sofie Support (support)" in browser.open() and browser.client.get("/log").status_code == 200


def test_a_callback_without_the_login_that_started_it_is_refused(oidc_app: Any, provider: FakeProvider) -> None:
    with Browser(oidc_app) as attacker, Browser(oidc_app) as victim:
        start = attacker.client.get("/login")
        back = httpx.get(start.headers["location"], follow_redirects=False)
        # The attacker's code and state, in the victim's browser (login CSRF): no session of the victim's has it.
        response = victim.client.get(back.headers["location"].replace("https://testserver", ""))
        assert response.status_code == 400 and "Logget ind som" not in victim.open()


def _proxy_app(rulebook: Any, path: Path, **settings: Any) -> Any:
    return make_app(path, rulebook, demo=False, trusted=PROXY, allowed_users=frozenset({"anna", "bo"}),
                    support_groups=frozenset({"support"}), **settings)


def test_the_proxy_header_counts_only_from_the_proxy(rulebook: Any, private_database: Path) -> None:
    app = _proxy_app(rulebook, private_database)
    with Browser(app, client=("10.0.0.5", 4000), headers={"X-Remote-User": "anna", "X-Remote-Name": "Anna"}) as anna:
        assert "Logget ind som Anna" in anna.open()
    with Browser(app, client=("192.168.1.9", 4000), headers={"X-Remote-User": "anna"}) as spoofer:
        page = spoofer.open()
        assert "Ingen adgang" in page and "Logget ind som" not in page
        assert spoofer.client.post("/svar", data={"text": "ips"}).status_code == 401
    with Browser(app, client=("10.0.0.5", 4000), headers={"X-Remote-User": "mallory"}) as stranger:
        assert "ikke på listen" in stranger.open()
    # A proxy that adds its header beside the client's own passes both on: which is the proxy's cannot be told.
    with Browser(app, client=("10.0.0.5", 4000), headers=httpx.Headers(
            [("X-Remote-User", "anna"), ("X-Remote-User", "mallory")])) as doubled:
        page = doubled.open()
        assert "Ingen adgang" in page and "Logget ind som" not in page
        assert doubled.client.post("/svar", data={"text": "ips"}).status_code == 401
    with Browser(app, client=("10.0.0.5", 4000), headers={"X-Remote-User": "sven", "X-Remote-Groups": "support"}) as sven:
        assert "(support)" in sven.open() and sven.client.get("/log").status_code == 200
    with Browser(app, client=("10.0.0.5", 4000), headers={"X-Remote-User": "bo"}) as bo:
        bo.open()
        assert bo.client.get("/log").status_code == 403


def test_no_cookie_forged_csrf_and_another_users_session(rulebook: Any, private_database: Path) -> None:
    app = _proxy_app(rulebook, private_database)
    proxy = ("10.0.0.5", 4000)
    with Browser(app, client=proxy, headers={"X-Remote-User": "anna"}) as anna, \
            Browser(app, client=proxy, headers={"X-Remote-User": "bo"}) as bo:
        anna.open()
        anna.type("skifter målgruppe")
        # No cookie at all: the form is refused.
        bare = httpx.Client(transport=anna.client._transport, base_url="https://testserver")
        assert bare.post("/svar", data={"text": "ips", "step": "1"}).status_code in (401, 403)
        # A forged token, and Anna's own form posted from Bo's session: refused, nothing changes.
        assert anna.client.post("/svar", data={**anna.hidden(), "csrf": "forfalsket", "text": "ips"}).status_code == 403
        bo.open()
        assert bo.client.post("/svar", data={**anna.hidden(), "text": "ips"}).status_code == 403
        # Bo with Anna's cookie is still Bo, and sees none of Anna's case.
        bo.client.cookies.set("ungebot_session", anna.client.cookies["ungebot_session"])
        bo.open()
        assert not any("skifter målgruppe" in message for message in bo.messages())
        assert bo.messages()[-1] == "Hvad er der sket med den unge?"
        anna.open()
        assert any("skifter målgruppe" in message for message in anna.messages())  # Anna's session is untouched
    states = dict(sqlite3.connect(private_database).execute("SELECT staff_id, state FROM dialogues").fetchall())
    assert '"switch"' in states["anna"] and "current_marker" not in states["anna"]


def test_answers_and_logins_are_rate_limited(rulebook: Any, private_database: Path, provider: FakeProvider) -> None:
    app = _proxy_app(rulebook, private_database, limits={"answer": (3, 60.0), "login": (2, 60.0)})
    with Browser(app, client=("10.0.0.5", 4000), headers={"X-Remote-User": "anna"}) as anna:
        anna.open()
        codes = [anna.client.post("/svar", data={**anna.hidden(), "text": "/hjælp"}).status_code for _ in range(4)]
        assert codes == [303, 303, 303, 429]
    app = make_app(private_database, rulebook, demo=False, oidc=Oidc(provider.url, "ungebot", "hemmelig"),
                   allowed_users=frozenset({"karen-1"}), limits={"answer": (3, 60.0), "login": (2, 60.0)})
    with Browser(app) as browser:
        assert [browser.client.get("/login").status_code for _ in range(3)] == [302, 302, 429]


def test_the_proxys_headers_are_read_as_starlette_reads_them_and_a_repeated_one_lets_nobody_in(
        rulebook: Any, private_database: Path) -> None:
    from starlette.datastructures import Headers

    from bot.channels.web.auth import IdentityMiddleware
    from bot.channels.web.middleware import Session

    settings = _proxy_app(rulebook, private_database).state.web.settings
    identity = IdentityMiddleware(None, settings)  # type: ignore[arg-type]

    def identify(raw: list[tuple[bytes, bytes]]) -> Any:
        return identity.identify({"headers": raw, "client": ("10.0.0.5", 4000), "session": Session({}, None)})

    for raw in ([(b"x-remote-user", b"bo"), (b"x-remote-name", b"Bo B.")], [(b"x-remote-user", b"")],
                [(b"x-remote-name", b"Anna")], [(b"x-remote-user", b"anna")],
                [(b"x-remote-groups", b"support"), (b"x-remote-user", b"anna"), (b"accept", b"x")]):
        headers = Headers(raw=raw)
        user = identify(raw)
        first = headers.get(PROXY.user)
        assert (user.id if user else None) == (first or None)  # the header's value, as Starlette's
        if user:
            assert user.name == headers.get(PROXY.name or "", first) and user.role == (
                "support" if headers.get(PROXY.groups or "") == "support" else "caseworker")
    for raw in ([(b"x-remote-user", b"bo"), (b"x-remote-user", b"anna")], [(b"x-remote-user", b""),
                (b"x-remote-user", b"anna")], [(b"x-remote-user", b"anna"), (b"x-remote-name", b"A"),
                (b"x-remote-name", b"B")], [(b"x-remote-groups", b"x"), (b"x-remote-user", b"anna"),
                (b"x-remote-groups", b"support")]):
        assert identify(raw) is None, raw  # any of the proxy's headers twice: nobody is let in by them
