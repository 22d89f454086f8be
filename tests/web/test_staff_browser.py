"""The staff console in a real browser, against the whole stack as `make run` starts it: a
patient books a visit and asks for a call-back in the chat (over the REST channel), then a
member of staff signs in as `admin` in headless Chromium, finds the booking's reference on
the bookings page, and marks the call-back done, which takes it off the open list.

Every page it visits is checked with axe-core for WCAG 2.1 A/AA (tests/web/browser.py), as
the widget is. Chromium and chromedriver from Debian (tests/web/conftest.py). Screenshots go
to results/staff/.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import MODEL, ROOT
from tests.stack import Stack
from tests.web.browser import check_axe
from tests.web.test_widget_browser import REFERENCE

pytestmark = [pytest.mark.model, pytest.mark.browser]

SHOTS = ROOT / "results" / "staff"
ADMIN_PASSWORD = "browser-test admin password"
PATIENT, CALLER = "Zoë O'Brien", "Samuel Carter"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}: run `make model` (make test trains first)")
    if not (ROOT / "build" / "web" / "rasa-webchat.js").exists():
        pytest.fail("build/web/rasa-webchat.js is missing: run `make web`")
    stack = Stack(tmp_path, env={"STAFF_ADMIN_PASSWORD": ADMIN_PASSWORD})
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()


class RestChat:
    """One patient's conversation over the stack's REST channel."""

    def __init__(self, stack: Stack, sender: str) -> None:
        self.stack, self.sender = stack, sender
        self.buttons: list[dict] = []

    def say(self, message: str, expect: str) -> str:
        replies = self.stack.rest(self.sender, message)
        text = "\n".join(r.get("text") or "" for r in replies)
        self.buttons = [b for r in replies for b in r.get("buttons") or []]
        print(f"  {self.sender} said {message!r}; bot: {text!r}")
        assert re.search(expect, text, re.IGNORECASE), f"expected {expect!r}, got {text!r}"
        return text

    def click(self, title: str, expect: str) -> str:
        """Send the payload of the button whose title matches `title`, as the widget does."""
        found = [b for b in self.buttons if re.search(title, b.get("title", ""))]
        assert found, f"no button {title!r} in {[b.get('title') for b in self.buttons]}"
        return self.say(found[0]["payload"], expect)


def book_a_visit(stack: Stack) -> str:
    """The booking conversation of the widget's test, over REST; the reference."""
    chat = RestChat(stack, "staff-test-booking")
    asked = chat.say(
        "I'd like to book an appointment",
        r"What would you like to be seen for\?|Have you been to .* before\?",
    )
    if "seen for" in asked:
        chat.say("lower back pain", r"Have you been to .* before\?")
    chat.click(r"^No, it's my first visit$", r"When would suit you\?")
    chat.click(r"^As soon as possible$", r"free times|\d{1,2}:\d{2}")
    chat.click(r"\d{1,2}:\d{2} with ", r"What is your full name\?")
    chat.say(PATIENT, r"phone|e-?mail")
    chat.say("zoe@example.com", r"\?")
    booked = chat.click(r"^Yes$", r"You're booked")
    found = REFERENCE.search(booked)
    assert found, booked
    return found.group(0)


def ask_for_a_call_back(stack: Stack) -> None:
    chat = RestChat(stack, "staff-test-callback")
    chat.say("I'd like someone to call me back", r"name")
    chat.say(CALLER, r"phone|e-?mail")
    chat.say("312 555 0142", r"passed your request")


def callback_rows(stack: Stack) -> list[tuple]:
    with sqlite3.connect(stack.clinic_db) as db:
        return db.execute("SELECT id, status, handled_by FROM callbacks").fetchall()


def screenshot(driver, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SHOTS / name))


@pytest.mark.timeout(600)
def test_staff_sign_in_see_the_booking_and_mark_a_call_back_done(browser, stack):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    for old in SHOTS.glob("*.png"):
        old.unlink()
    output = stack.output()
    assert "Staff console:" in output and "STAFF_ADMIN_PASSWORD" in output
    assert ADMIN_PASSWORD not in output + stack.log_of("web")

    reference = book_a_visit(stack)
    ask_for_a_call_back(stack)
    [(callback_id, status, _)] = callback_rows(stack)
    assert status == "open"
    wait = WebDriverWait(driver, 30)
    try:
        # Not signed in: the console sends the browser to its sign-in page.
        driver.get(stack.page_url + "staff/bookings")
        wait.until(ec.title_contains("Sign in"))
        assert driver.current_url.endswith("/staff/login?next=%2Fstaff%2Fbookings")
        driver.find_element(By.ID, "username").send_keys("admin")
        driver.find_element(By.ID, "password").send_keys("not the password")
        driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "main"), "Wrong account"))
        check_axe(driver, "sign-in page with an error")
        driver.find_element(By.ID, "username").send_keys("admin")
        driver.find_element(By.ID, "password").send_keys(ADMIN_PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form.login button[type=submit]").click()

        # The booking the chat just made, with its patient, on the bookings page.
        wait.until(ec.title_contains("Upcoming bookings"))
        table = driver.find_element(By.CSS_SELECTOR, "main table").text
        assert reference in table and PATIENT in table and "zoe@example.com" in table
        cookie = driver.get_cookie("staff_session")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/staff"
        screenshot(driver, "bookings.png")
        check_axe(driver, "bookings")

        # The call-back: marked done, it leaves the open list.
        driver.find_element(By.LINK_TEXT, "Call-backs").click()
        wait.until(ec.title_contains("Call-back requests"))
        assert CALLER in driver.find_element(By.TAG_NAME, "main").text
        screenshot(driver, "callbacks.png")
        check_axe(driver, "call-backs")
        button = driver.find_element(
            By.CSS_SELECTOR, f"button[aria-label='Mark done: call-back {callback_id}']"
        )
        button.click()
        wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "main"), "marked done"))
        main = driver.find_element(By.TAG_NAME, "main").text
        assert CALLER not in main and "No call-backs to handle." in main
        assert callback_rows(stack) == [(callback_id, "done", "admin")]
        screenshot(driver, "callback-done.png")

        # The audit log names the views.
        driver.find_element(By.LINK_TEXT, "Audit log").click()
        wait.until(ec.title_contains("Audit log"))
        log = driver.find_element(By.TAG_NAME, "main").text
        assert "bookings list" in log and "call-back list" in log
        check_axe(driver, "audit log")
        # No CSP violation, no missing stylesheet or icon; the one expected entry is the
        # 403 of the wrong password above.
        problems = [
            e["message"]
            for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and "/staff/login - " not in e["message"]
        ]
        assert not problems, problems
    except BaseException:
        try:
            screenshot(driver, "failure.png")
            print(f"\nlauncher output:\n{stack.output()[-4000:]}")
            print(f"web server log:\n{stack.log_of('web')[-3000:]}")
        except Exception:
            pass
        raise
