"""`ungebot review` over HTTP: Datasette in-process, shut to strangers, a login link, a trusted proxy header, read
access only to what support needs, Danish local times; SIGTERM stops it and no process or file is left behind."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from storage import star
from storage.db import open_database
from storage.records import Staff, mark_replaced

from tests.conftest import ROOT
from tests.test_log import logbook  # noqa: F401 - the fixture
from tests.test_star import free_port
from tests.web_server import exchange, get

pytest.importorskip("datasette")


class Review:
    """`ungebot review` as a child of the test, with the login link it printed."""

    def __init__(self, process: subprocess.Popen[str], base: str, link: str) -> None:
        self.process, self.base, self.link = process, base, link


def start(env: dict[str, str], port: int) -> Review:
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "review", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    lines = []
    while not any("/-/login?token=" in line for line in lines):
        line = process.stderr.readline()
        assert line or process.poll() is None, "".join(lines)
        lines.append(line)
    link = re.search(r"http://\S+/-/login\?token=\S+", "".join(lines))
    assert link is not None
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(base + "/-/versions.json", timeout=2)
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline and process.poll() is None, "Datasette did not start"
            time.sleep(0.1)
    return Review(process, base, link.group(0))


@pytest.fixture
def review(logbook: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Review]:  # noqa: F811
    conn = open_database(logbook)
    draft = star.Draft("Spørgsmål om barsel", "Krop", "Hvad gør vi ved barsel?", "Barsel", "leave", None, "ungeloeftet")
    star.store_draft(conn, Staff("telegram", "111", "Anna Æbelø"), draft, "star@star.dk")
    with conn:  # decision 1 shown, then changed (/ret): the same case decided again as decision 4
        conn.execute("INSERT INTO decisions (time, channel, staff_id, staff_name, programme, flow, rulebook_edition, "
                     "answers, outcome, result, warnings, sources, decided_on) SELECT time, channel, staff_id, "
                     "staff_name, programme, flow, rulebook_edition, answers, outcome, result, warnings, sources, "
                     "decided_on FROM decisions WHERE id = 1")
        mark_replaced(conn, 1, by=4)
    env = {**os.environ, "UNGEBOT_REVIEW_PROXY_HEADER": "X-Remote-User", "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    running = start(env, free_port())
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait(timeout=10)
    assert list((tmp_path / "tmp").iterdir()) == []  # no temporary file left behind


def test_review_over_http(review: Review) -> None:
    """One server for every check (starting Datasette costs seconds on a busy machine)."""
    strangers_see_nothing(review)
    the_login_link_lets_support_read_the_log_in_danish_time(review)
    a_trusted_proxy_names_the_user(review)
    sigterm_stops_it_and_leaves_no_process(review)


def strangers_see_nothing(review: Review) -> None:
    for path in ("/", "/ungebot", "/ungebot/decisions", "/ungebot/per_uge.json", "/ungebot.json?sql=select+1"):
        assert httpx.get(review.base + path).status_code == 403, path
    assert httpx.get(review.base + "/-/login?token=wrong").status_code == 403
    # The server reads HTTP with h11, which refuses a head still incomplete past 16 KiB (httptools keeps any size).
    assert exchange(int(review.base.rsplit(":", 1)[1]), [get(b"x" * 1_000_000)]).startswith(b"HTTP/1.1 400 ")


def the_login_link_lets_support_read_the_log_in_danish_time(review: Review) -> None:
    with httpx.Client(base_url=review.base) as client:
        assert client.get(review.link.removeprefix(review.base)).status_code == 302
        page = client.get("/")
        assert page.status_code == 200 and "Ungebot – supportteamets skrivebord" in page.text
        page = client.get("/ungebot/decisions")
        assert page.status_code == 200 and "Anna Æbelø" in page.text and "Resultater" in page.text
        weeks = client.get("/ungebot/per_uge.json?_shape=array").json()
        assert {row["situation"] for row in weeks} == {"switch", "leave", "move_out"}
        warned = client.get("/ungebot/med_advarsler.json?_shape=array").json()
        assert [row["id"] for row in warned] == [2]
        stored = open_database(Path(os.environ["UNGEBOT_DB"])).execute(
            "select time from decisions where id = 2").fetchone()[0]
        assert warned[0]["tidspunkt"] != stored[:16].replace("T", " ")  # shown in Copenhagen time, not UTC
        replaced = client.get("/ungebot/erstattede.json?_shape=array").json()
        assert [(row["nr"], row["situation"], row["erstattet_af"]) for row in replaced] == [(1, "switch", 4)]
        statuses = client.get("/ungebot/star_pr_status.json?_shape=array").json()
        assert statuses == [{"status": "udkast", "antal": 1, "senest": statuses[0]["senest"]}]
        # Only what support needs: no open dialogues, no outbox, no SQL of one's own.
        for path in ("/ungebot/dialogues", "/ungebot/star_outbox", "/ungebot/local_settings",
                     "/ungebot.json?sql=select+*+from+dialogues"):
            assert client.get(path).status_code == 403, path


def a_trusted_proxy_names_the_user(review: Review) -> None:
    page = httpx.get(review.base + "/-/actor.json", headers={"X-Remote-User": "support-anna"})
    assert page.status_code == 200 and json.loads(page.text)["actor"]["id"] == "support-anna"
    assert httpx.get(review.base + "/ungebot/decisions", headers={"X-Remote-User": "support-anna"}).status_code == 200


def sigterm_stops_it_and_leaves_no_process(review: Review) -> None:
    review.process.send_signal(signal.SIGTERM)
    assert review.process.wait(timeout=15) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(review.base + "/", timeout=2)
    children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(review.process.pid)], capture_output=True, text=True)
    assert children.stdout.strip() == ""
