"""The website chat widget in a real browser: headless Chromium opens the clinic page that
`scripts/run.py` serves, against the whole stack (action server, Rasa over socket.io, page).

- It opens rasa-webchat, asks a question and books a first visit by clicking the buttons.
- Accessibility (WCAG 2.1 AA): axe-core, from web/package-lock.json, finds no violation with
  the widget closed, open, after an answer with buttons and after a red-flag reply; a person
  with only a keyboard opens the chat, answers buttons and closes it; the red-flag reply stands
  out without colour and its number is a tel: link; motion stops when the system asks for less.
- Privacy: the browser's own network log shows no request to any host but ours.

The browser is the `browser` fixture of tests/web/conftest.py; the axe, network and keyboard
helpers are in tests/web/browser.py. Screenshots go to results/widget/.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from actions.records.sealed import unseal
from tests.helpers import MODEL, ROOT
from tests.stack import Stack
from tests.web.browser import (
    assert_no_console_errors,
    assert_only_our_hosts,
    check_axe,
    class_of,
    focused,
    press,
    shift_tab,
    tab_to,
    wait_for_focus,
)

pytestmark = [pytest.mark.model, pytest.mark.browser]

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

AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
#: The rules that fail the test: every WCAG 2.0 and 2.1 rule at level A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


# --------------------------------------------------------------------------- browser


# --------------------------------------------------------------------------- the stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One stack for the module; each test opens its own conversation (`fresh_page`)."""
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make model` (make test trains first)")
    if not (ROOT / "build" / "web" / "rasa-webchat.js").exists():
        pytest.fail("build/web/rasa-webchat.js is missing: run `make web`")
    stack = Stack(tmp_path_factory.mktemp("widget"))
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

    def settle(self, quiet: float = 2.0) -> None:
        """Wait until no bot message has arrived for `quiet` seconds."""
        last, since = self.count(), time.monotonic()
        deadline = since + REPLY_TIMEOUT
        while time.monotonic() - since < quiet and time.monotonic() < deadline:
            time.sleep(0.25)
            now = self.count()
            if now != last:
                last, since = now, time.monotonic()

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


def fresh_page(driver, url: str) -> None:
    """The page in a new conversation, chat closed, with the browser's console and network
    logs emptied first. The widget keeps its state in sessionStorage and writes it back as
    its page unloads, so the storage is cleared from a page of the same site without it."""
    driver.get(url.rstrip("/") + "/health")
    driver.execute_script("window.sessionStorage.clear(); window.localStorage.clear();")
    driver.get_log("browser")
    driver.get_log("performance")
    driver.get(url)


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
        fresh_page(driver, stack.page_url)
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
        assert_no_console_errors(driver)
        assert_only_our_hosts(driver)
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


@pytest.mark.timeout(600)
def test_the_widget_is_usable_with_a_keyboard_and_a_screen_reader(browser, stack):
    """WCAG 2.1 AA with axe-core in four states, and a whole exchange with the keyboard only:
    Tab to the launcher, type, answer buttons with Enter and Space, scroll the conversation,
    get a red-flag reply, close with Escape."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    try:
        fresh_page(driver, stack.page_url)
        WebDriverWait(driver, REPLY_TIMEOUT).until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, LAUNCHER)),
            message="the chat launcher never appeared (socket.io not connected?)",
        )
        check_axe(driver, "widget closed")

        # Tab from the top of the page reaches the launcher, which says what it is and that
        # the chat is closed; Enter opens it and puts the cursor in the message box.
        launcher = tab_to(driver, lambda e: "rw-launcher" in class_of(e))
        assert launcher.get_attribute("aria-label") == "Chat with our virtual assistant"
        assert launcher.get_attribute("aria-expanded") == "false"
        press(driver, Keys.ENTER)
        WebDriverWait(driver, 10).until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, CONVERSATION))
        )
        wait_for_focus(
            driver, "rw-new-message", "focus did not move to the message box when the chat opened"
        )
        assert driver.find_element(By.CSS_SELECTOR, LAUNCHER).get_attribute("aria-expanded") == (
            "true"
        )
        log = driver.find_element(By.CSS_SELECTOR, ".rw-messages-container")
        assert (log.get_attribute("role"), log.get_attribute("aria-live")) == ("log", "polite")
        assert log.get_attribute("tabindex") == "0" and log.get_attribute("aria-label")
        for selector, name in ((".rw-send", "Send"), (".rw-close-button", "Close the chat")):
            assert driver.find_element(By.CSS_SELECTOR, selector).get_attribute("aria-label") == (
                name
            )
        chat = Chat(driver)
        chat.expect(r"not for emergencies", 0, "greeting")
        check_axe(driver, "widget open")

        # Typing and Enter, into whatever has focus.
        before = chat.count()
        press(driver, "I'd like to book an appointment", Keys.ENTER)
        chat.expect(r"What would you like to be seen for\?", before, "reason question")
        before = chat.count()
        press(driver, "lower back pain", Keys.ENTER)
        chat.wait_for_buttons(r"first visit", "new or returning")
        check_axe(driver, "answer with buttons")

        # The reply buttons are buttons to the keyboard: Shift+Tab back to one, then Enter.
        first = tab_to(driver, lambda e: e.text.strip() == "No, it's my first visit", True, 8)
        assert first.get_attribute("role") == "button"
        assert driver.find_element(By.CSS_SELECTOR, ".rw-replies").get_attribute("role") == (
            "group"
        )
        before = chat.count()
        press(driver, Keys.ENTER)
        chat.expect(r"When would suit you\?", before, "preferred time, after Enter")
        wait_for_focus(
            driver,
            "rw-new-message",
            "after a reply button, focus did not go back to the message box",
        )
        tab_to(driver, lambda e: e.text.strip() == "As soon as possible", True, 8)
        press(driver, " ")
        chat.wait_for_buttons(r"\d{1,2}:\d{2} with ", "slot offer, after Space")

        # The conversation scrolls with the keyboard once it is focused.
        tab_to(driver, lambda e: e.get_attribute("role") == "log", True, 12)
        assert driver.execute_script(
            "return arguments[0].scrollHeight > arguments[0].clientHeight", log
        )
        bottom = driver.execute_script("return arguments[0].scrollTop", log)
        press(driver, Keys.HOME)
        WebDriverWait(driver, 5).until(
            lambda d: d.execute_script("return arguments[0].scrollTop", log) < bottom,
            message="Home in the focused conversation did not scroll it",
        )

        # A red flag in the middle of the booking: an answer that stands out without colour,
        # its number a tel: link that opens the phone app, announced by the log.
        tab_to(driver, lambda e: "rw-new-message" in class_of(e), False, 12)
        before = chat.count()
        press(driver, "I suddenly can't control my bladder", Keys.ENTER)
        chat.expect(r"^Call \S+ now", before, "red-flag reply")
        chat.settle()  # the widget re-renders a group of bot messages as each one arrives
        urgent = WebDriverWait(driver, REPLY_TIMEOUT).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, ".rw-response.rw-urgent"))
        )
        link = urgent.find_element(By.CSS_SELECTOR, "a[href^='tel:']")
        number = knowledge_emergency_number()
        assert (link.text, link.get_attribute("href")) == (number, f"tel:{number}")
        assert not driver.execute_script("return arguments[0].hasAttribute('target')", link)
        label = driver.execute_script(
            "return getComputedStyle(arguments[0], '::before').content", urgent
        )
        assert "Urgent" in label, label
        style = driver.execute_script(
            "const s = getComputedStyle(arguments[0]);"
            "return [s.borderLeftStyle, parseFloat(s.borderLeftWidth), s.fontWeight];",
            link.find_element(By.XPATH, "./ancestor::div[contains(@class, 'rw-urgent')]"),
        )
        assert style[0] == "solid" and style[1] >= 6, style
        assert urgent.find_element(By.XPATH, "./ancestor::*[@role='log']")
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", urgent)
        screenshot(driver, "red-flag.png")
        check_axe(driver, "red-flag reply")

        # Escape closes the chat and gives focus back to the launcher; the page goes on.
        press(driver, Keys.ESCAPE)
        WebDriverWait(driver, 5).until(
            ec.invisibility_of_element_located((By.CSS_SELECTOR, CONVERSATION))
        )
        wait_for_focus(
            driver, "rw-launcher", "closing the chat did not give focus back to the launcher"
        )
        assert focused(driver).get_attribute("aria-expanded") == "false"
        # Never trapped: Shift+Tab from the launcher goes back into the page.
        shift_tab(driver)
        assert not driver.execute_script(
            "return document.getElementById('webchat').contains(document.activeElement)"
        )
        assert_no_console_errors(driver)
        assert_only_our_hosts(driver)
    except BaseException:
        try:
            print(f"\nscreenshot: {screenshot(driver, 'failure-keyboard.png')}")
            print(f"launcher output:\n{stack.output()[-3000:]}")
        except Exception:
            pass
        raise


def knowledge_emergency_number() -> str:
    from clinic.knowledge import knowledge

    return knowledge().clinic.emergency_number


@pytest.mark.timeout(300)
def test_the_widget_stops_moving_when_the_system_asks_for_less_motion(browser, stack):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser

    def opened_animation() -> list:
        fresh_page(driver, stack.page_url)
        WebDriverWait(driver, REPLY_TIMEOUT).until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, LAUNCHER))
        ).click()
        container = WebDriverWait(driver, 10).until(
            ec.presence_of_element_located((By.CSS_SELECTOR, CONVERSATION))
        )
        return driver.execute_script(
            "const s = getComputedStyle(arguments[0]);"
            "return [s.animationName, s.transitionDuration];",
            container,
        )

    try:
        # As shipped, the chat slides in: the check below is about something real.
        assert opened_animation()[0] == "slide-in"
        driver.execute_cdp_cmd(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]},
        )
        assert opened_animation() == ["none", "0s"]
        assert (
            driver.execute_script(
                "return getComputedStyle(document.documentElement).scrollBehavior"
            )
            == "auto"
        )
        assert_only_our_hosts(driver)
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
