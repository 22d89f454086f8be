"""The website chat widget in a real browser: headless Chromium opens the clinic page that
`scripts/run.py` serves, opens rasa-webchat, asks a question and books a first visit by
clicking the buttons, against the whole stack (action server, Rasa over socket.io, page).

Chromium and chromedriver come from Debian (installed here if missing and we are root);
Selenium never downloads a browser or driver. Screenshots go to results/widget/.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.records.sealed import unseal
from tests.helpers import MODEL, ROOT
from tests.stack import Stack

pytestmark = [pytest.mark.model, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = ROOT / "results" / "widget"
READY_TIMEOUT = 180  # seconds for the launcher to bring everything up
REPLY_TIMEOUT = 60  # seconds for each bot reply

# rasa-webchat 1.0.1's DOM (see web/node_modules/rasa-webchat/lib/index.js).
LAUNCHER = ".rw-launcher"
CONVERSATION = ".rw-conversation-container"
INPUT = ".rw-sender .rw-new-message"
# Each bot message bubble. The typing indicator is also a .rw-response, but it sits outside
# the .rw-group-message groups, so it is not counted.
BOT_MESSAGE = ".rw-messages-container .rw-group-message.rw-from-response .rw-response"
USER_MESSAGE = ".rw-messages-container .rw-group-message.rw-from-client .rw-client"
BUTTON = ".rw-messages-container .rw-replies .rw-reply"

REFERENCE = re.compile(r"\bBK-[A-Z0-9]{6}\b")


# --------------------------------------------------------------------------- browser


def _ensure_chromium() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    if os.geteuid() != 0:
        pytest.skip(
            f"{CHROMIUM} or {CHROMEDRIVER} is missing and we are not root to install them: run "
            "`sudo apt-get install -y --no-install-recommends chromium chromium-driver`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "chromium", "chromium-driver"],
    ):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(cmd)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail(f"apt-get installed chromium, but {CHROMIUM} or {CHROMEDRIVER} is missing")


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Headless Chromium driven by the system chromedriver (no Selenium Manager downloads)."""
    pytest.importorskip("selenium", reason="selenium is in requirements.lock: make venv")
    _ensure_chromium()
    # The driver path below makes Selenium skip Selenium Manager; should it ever run, offline.
    os.environ["SE_OFFLINE"] = "true"
    os.environ["SE_AVOID_STATS"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,900",
        "--lang=en-US",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


# --------------------------------------------------------------------------- the stack


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make model` (make test trains first)")
    if not (ROOT / "web" / "node_modules" / "rasa-webchat" / "lib" / "index.js").exists():
        pytest.fail("web/node_modules/rasa-webchat is missing: run `npm ci` in web/")
    stack = Stack(tmp_path)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


# --------------------------------------------------------------------------- helpers


class Chat:
    """The open widget: send text, click buttons, wait for bot messages."""

    def __init__(self, driver) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = driver
        self.wait = WebDriverWait(driver, REPLY_TIMEOUT, poll_frequency=0.25)
        self.seen: list[str] = []  # every bot message, in order (for the report on failure)

    def bot_texts(self) -> list[str]:
        from selenium.webdriver.common.by import By

        return [el.text.strip() for el in self.driver.find_elements(By.CSS_SELECTOR, BOT_MESSAGE)]

    def expect(self, pattern: str, after: int, what: str) -> str:
        """Wait until a bot message after the first `after` matches `pattern` (no case)."""
        regex = re.compile(pattern, re.IGNORECASE)

        def match(_driver):
            try:
                texts = self.bot_texts()
            except Exception:  # the list re-rendered while we read it
                return False
            return next((t for t in texts[after:] if regex.search(t)), False)

        try:
            text = self.wait.until(match)
        except Exception as err:
            texts = self.bot_texts()
            raise AssertionError(
                f"no bot reply matching {pattern!r} ({what}) within {REPLY_TIMEOUT} s; "
                f"bot messages since the last turn: {texts[after:]!r}"
            ) from err
        self.seen.extend(t for t in self.bot_texts()[after:] if t not in self.seen)
        print(f"  bot ({what}): {text!r}")
        return text

    def count(self) -> int:
        return len(self.bot_texts())

    def send(self, text: str) -> int:
        """Type `text` and press Enter; returns the bot message count before it."""
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support import expected_conditions as ec

        before = self.count()
        box = self.wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, INPUT)))
        box.click()
        box.send_keys(text)
        box.send_keys(Keys.ENTER)
        self._user_message_shown(text)
        print(f"  user typed: {text!r}")
        return before

    def buttons(self) -> list:
        from selenium.webdriver.common.by import By

        return [b for b in self.driver.find_elements(By.CSS_SELECTOR, BUTTON) if b.is_displayed()]

    def click(self, title: str) -> int:
        """Click the newest visible button titled `title`; returns the bot message count
        before it."""

        def find(_driver):
            try:
                matching = [b for b in self.buttons() if b.text.strip() == title]
            except Exception:  # re-rendered while we read it
                return False
            return matching[-1] if matching else False

        try:
            button = self.wait.until(find)
        except Exception as err:
            shown = [b.text for b in self.buttons()]
            raise AssertionError(f"no button {title!r}; buttons shown: {shown!r}") from err
        label = button.text.strip()
        before = self.count()
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        button.click()
        self._user_message_shown(label)
        print(f"  user clicked: {label!r}")
        return before

    def wait_for_buttons(self, pattern: str, what: str) -> list[str]:
        """Wait for visible buttons whose titles match `pattern`; returns all their titles."""
        regex = re.compile(pattern)

        def titles(_driver):
            try:
                found = [b.text.strip() for b in self.buttons()]
            except Exception:
                return False
            return [t for t in found if regex.search(t)] or False

        try:
            found = self.wait.until(titles)
        except Exception as err:
            shown = [b.text for b in self.buttons()]
            raise AssertionError(f"no {what} buttons; buttons shown: {shown!r}") from err
        texts = self.bot_texts()
        print(f"  bot ({what}): {texts[-1]!r} with buttons {found!r}")
        return found

    def _user_message_shown(self, text: str) -> None:
        from selenium.webdriver.common.by import By

        def shown(driver):
            try:
                users = driver.find_elements(By.CSS_SELECTOR, USER_MESSAGE)
                return bool(users) and users[-1].text.strip() == text.strip()
            except Exception:
                return False

        self.wait.until(shown, message=f"the widget did not show the user message {text!r}")


def screenshot(driver, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / name
    driver.save_screenshot(str(path))
    return path


# --------------------------------------------------------------------------- the test


@pytest.mark.timeout(600)
def test_widget_answers_and_books_in_a_real_browser(browser, stack):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    started = time.monotonic()
    for old in SHOTS.glob("*.png"):  # no stale screenshots from an earlier run
        old.unlink()
    try:
        driver.get(stack.page_url)
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "Riverside Spine" in body or re.search(r"\bclinic\b", body, re.I)
        title = driver.find_element(By.CSS_SELECTOR, ".brand-name").text.strip()
        assert title and "{{" not in driver.page_source, "a template placeholder was not filled"
        assert "Lower back and leg pain? We can help" in body
        emergency = driver.find_element(By.ID, "emergency").text
        assert "loss of bladder or bowel control" in emergency
        assert re.search(r"call \S+ now", emergency), emergency
        emergency_number = re.search(r"call (\S+) now", emergency).group(1)

        # The launcher appears (bottom right) once the widget has connected to Rasa.
        launcher = WebDriverWait(driver, REPLY_TIMEOUT).until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, LAUNCHER)),
            message="the chat launcher never appeared (socket.io not connected?)",
        )
        where = launcher.rect
        assert where["x"] > 1280 / 2 and where["y"] > 900 / 2, f"launcher not bottom-right: {where}"
        screenshot(driver, "page.png")
        launcher.click()
        WebDriverWait(driver, 10).until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, CONVERSATION))
        )
        chat = Chat(driver)
        header = driver.find_element(By.CSS_SELECTOR, ".rw-header").text
        assert title in header and "not for emergencies" in header, header

        # The greeting (initPayload /greet) says what the assistant cannot do.
        chat.expect(
            rf"not for emergencies|{re.escape(emergency_number)}", 0, "greeting after /greet"
        )

        # A question.
        before = chat.send("what causes sciatica?")
        chat.expect(r"sciatica", before, "answer about sciatica")
        screenshot(driver, "answer.png")

        # A booking, clicking the buttons.
        before = chat.send("I'd like to book an appointment")
        asked = chat.expect(
            r"What would you like to be seen for\?|Have you been to .* before\?",
            before,
            "reason question (or new/returning if the reason is already known)",
        )
        if "seen for" in asked:
            before = chat.send("lower back pain")
            chat.expect(r"Have you been to .* before\?", before, "new or returning")
        else:
            print("  (the bot did not ask for the reason: it took it from the conversation)")
        before = chat.click("No, it's my first visit")
        chat.expect(r"When would suit you\?", before, "preferred time")
        before = chat.click("As soon as possible")
        offered = chat.wait_for_buttons(r"\d{1,2}:\d{2} with ", "slot offer")
        assert 1 <= len(offered) <= 3, offered
        assert all(re.search(r"\d{1,2}:\d{2} with ", o) for o in offered), offered
        print(f"  slots offered: {offered!r}")
        before = chat.click(offered[0])
        chat.expect(r"What is your full name\?", before, "name question")
        before = chat.send("Zoë O'Brien")
        chat.expect(r"phone|e-?mail", before, "contact question")
        before = chat.send("zoe@example.com")
        chat.expect(r"\?", before, "confirmation")
        assert {"Yes", "No"} <= {b.text.strip() for b in chat.buttons()}
        before = chat.click("Yes")
        booked = chat.expect(r"You're booked", before, "booked")
        reference = REFERENCE.search(booked)
        assert reference, booked
        time.sleep(1.5)  # let any follow-up message of the turn render before the picture
        screenshot(driver, "booked.png")

        with sqlite3.connect(stack.clinic_db) as db:
            row = db.execute(
                "SELECT patient_name, email, patient_type, status, reason FROM bookings"
                " WHERE reference = ?",
                (reference.group(0),),
            ).fetchone()
        assert row is not None, f"{reference.group(0)} is not in {stack.clinic_db}"
        # Sealed at rest (actions/records/sealed.py), opened with the session's key.
        assert row[0].startswith("enc1:") and "O'Brien" not in row[0], row
        assert unseal(row[0]) == "Zoë O'Brien" and unseal(row[1]) == "zoe@example.com", row
        assert row[2:4] == ("new", "booked"), row
        print(f"  bookings row: {row!r}")
        # No script errors. The one expected entry: the page's Content-Security-Policy blocks
        # the Google Fonts stylesheet that rasa-webchat's CSS imports (no CDNs).
        problems = [
            e["message"]
            for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and "fonts.googleapis.com" not in e["message"]
        ]
        assert not problems, problems
        print(f"  booked {reference.group(0)} in {time.monotonic() - started:.0f} s")
    except BaseException:
        try:
            shot = screenshot(driver, "failure.png")
            print(f"\nscreenshot: {shot}\nlauncher output:\n{stack.output()[-4000:]}")
            logs = driver.get_log("browser")
            print("browser console:\n" + "\n".join(str(e) for e in logs[-30:]))
        except Exception:
            pass
        raise
