"""The web chat in a real browser: Debian's headless chromium (Selenium, the system chromedriver) against
`ungebot web --demo` on uvicorn on 127.0.0.1. The guide's switch example and a question to STAR are played with the
keyboard alone, the server is restarted in the middle, and axe-core 4 (WCAG 2.1 A and AA rules) checks every state.

With UNGEBOT_WEB_SCREENSHOTS=1 the screenshots of each state are written to docs/web/ (otherwise to a temporary
folder), so the committed pictures can be renewed with one command."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait

from tests.test_star import free_port
from tests.web_server import Server

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1280,900")
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "ungebot.db", free_port())
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    assert AXE.is_file(), "axe-core is missing: run `make test` (it installs node_modules with npm)"
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS + (f"--user-data-dir={tempfile.mkdtemp(dir=tmp_path)}",):
        options.add_argument(flag)
    # The driver's path given explicitly: Selenium Manager never downloads anything.
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        yield driver
    finally:
        driver.quit()


class Walk:
    """Plays the dialogue with the keyboard alone: Tab to a control, Enter to use it, typing into the field."""

    def __init__(self, driver: WebDriver, shots: Path) -> None:
        self.driver, self.shots = driver, shots
        self.axe = AXE.read_text(encoding="utf-8")
        self.checked: dict[str, list[Any]] = {}

    def messages(self) -> list[str]:
        return [str(text) for text in self.driver.execute_script(
            "return [...document.querySelectorAll('.message-text')].map(e => e.innerText.trim())")]

    def _focus(self, wanted: str) -> None:
        """Press Tab until the control `wanted` (an id or a button's text) has focus, starting where focus is."""
        is_it = ("const e = document.activeElement;"
                 "return !!e && (e.id === arguments[0] || (e.innerText || '').trim() === arguments[0]);")
        for presses in range(80):
            if self.driver.execute_script(is_it, wanted):
                return
            self.driver.switch_to.active_element.send_keys(Keys.TAB)
        raise AssertionError(f"»{wanted}« cannot be reached with Tab")

    def _after(self, action: Any) -> None:
        before = len(self.messages())
        action()
        WebDriverWait(self.driver, 10).until(lambda d: len(self.messages()) > before)

    def press(self, label: str) -> None:
        """Tab to the button with this label and press Enter."""
        self._focus(label)
        self._after(lambda: self.driver.switch_to.active_element.send_keys(Keys.ENTER))

    def type(self, text: str) -> None:
        """Tab to the answer field, type and press Enter."""
        self._focus("svartekst")
        self._after(lambda: self.driver.switch_to.active_element.send_keys(text + Keys.ENTER))

    def state(self, name: str) -> None:
        """Check the page with axe-core (WCAG 2.1 A/AA) and take its screenshot."""
        self.driver.execute_script(self.axe)
        violations = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
            ".then(r => done(r.violations.map(v => [v.id, v.nodes.map(n => n.target.join(' '))])))", WCAG)
        self.checked[name] = violations
        self.driver.save_screenshot(str(self.shots / f"{name}.png"))


def test_switch_example_and_star_by_keyboard_with_a_restart(server: Server, browser: WebDriver,
                                                             tmp_path: Path) -> None:
    shots = ROOT / "docs" / "web" if os.environ.get("UNGEBOT_WEB_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    walk = Walk(browser, shots)
    browser.get(f"http://127.0.0.1:{server.port}/")
    assert browser.find_element("tag name", "html").get_attribute("lang") == "da"
    walk.state("question")
    walk.press("Skifter målgruppe (IPS ↔ Flere unge skal med)")
    walk.press("Ungeløftet – Flere unge skal med")
    walk.press("Ja")
    walk.type("31.2.2025")
    assert "februar" in walk.messages()[-2]  # a date that does not exist is explained, and asked again
    walk.state("error")
    walk.type("12/10-25")
    server.stop()  # a restart in the middle: the answers and the page's conversation are on disk
    server.start()
    browser.refresh()
    assert walk.messages()[-1].startswith("Fra hvilken dag")
    walk.type("1.2.2028")
    walk.state("date-confirmation")
    walk.press("Nej")
    walk.type("1/2-26")
    outcome = "\n".join(walk.messages()[-2:])
    assert "31. januar 2026" in outcome and "1. februar 2026" in outcome
    walk.state("outcome")
    walk.press("Hvorfor?")  # the outcome's own button (#9): the path and each date step by step
    assert "1 dag" in "\n".join(walk.messages()[-2:])
    walk.state("why")
    walk.press("Spørg STAR")
    walk.type("Aarhus")  # asked once: the municipality that signs the e-mail (#11)
    walk.type("Skal markøren skiftes, når skiftet sker midt i en måned?")
    walk.state("star-draft")
    walk.press("Send til STAR")
    assert "spørgsmål nr. 1" in walk.messages()[-2].lower() or "spørgsmål nr. 1" in walk.messages()[-1].lower()
    browser.set_window_size(390, 844)
    browser.refresh()
    walk.state("phone")
    assert walk.checked and all(violations == [] for violations in walk.checked.values()), walk.checked
