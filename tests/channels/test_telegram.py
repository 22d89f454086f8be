"""Telegram end to end: Telegram's own updates (recorded samples) posted with the webhook's
secret token to the running assistant, and what reached the stand-in for the Bot API, as the
person's Telegram app shows it. The webhook answers after the turn, so every message of a
turn has reached the stand-in when the post returns."""

from __future__ import annotations

import itertools
import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from addons.channels.common import red_flag_call
from tests.channels.conftest import TELEGRAM

pytestmark = pytest.mark.model

SAMPLES = Path(__file__).parent / "samples"
HOOK = "/webhooks/telegram/webhook"
API = f"/telegram/bot{TELEGRAM['TELEGRAM_ACCESS_TOKEN']}/"
SECRET = TELEGRAM["TELEGRAM_SECRET_TOKEN"]
REFERENCE = re.compile(r"\bBK-[A-HJ-NP-Z2-9]{6}\b")
RED_FLAG = "I suddenly can't control my bladder and my groin is numb"
_ids = itertools.count(int(time.time()) % 1_000_000 * 1000)


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def post(channels, update: dict[str, Any], secret: str | None = SECRET) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(
        channels.url(HOOK), data=json.dumps(update).encode(), headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


class Chat:
    """One person in a private chat with the clinic's bot."""

    def __init__(self, channels, platform) -> None:
        self.channels, self.platform = channels, platform
        self.id = 7_210_000_000 + next(_ids)
        self.last: list[dict[str, str]] = []

    def message(self, text: str) -> dict[str, Any]:
        update = sample("telegram_message")
        update["update_id"] = next(_ids)
        update["message"]["text"] = text
        update["message"]["chat"]["id"] = update["message"]["from"]["id"] = self.id
        return update

    def tap(self, title: str) -> list[dict[str, str]]:
        """Tap the button `title` of the latest message that has a keyboard."""
        [shown] = [m for m in self.last if "reply_markup" in m][-1:]
        keyboard = json.loads(shown["reply_markup"])["inline_keyboard"]
        [button] = [b for row in keyboard for b in row if b["text"] == title]
        update = sample("telegram_callback_query")
        update["update_id"] = next(_ids)
        query = update["callback_query"]
        query["id"] = str(next(_ids))
        query["from"]["id"] = query["message"]["chat"]["id"] = self.id
        query["message"]["text"] = shown["text"]
        query["message"]["reply_markup"] = {"inline_keyboard": keyboard}
        query["data"] = button["callback_data"]
        mark = len(self.platform.calls)
        replies = self.send(update)
        answered = [c.form() for c in self.platform.since(mark, API + "answerCallbackQuery")]
        assert [a["callback_query_id"] for a in answered] == [query["id"]]  # spinner stopped
        return replies

    def say(self, text: str) -> list[dict[str, str]]:
        return self.send(self.message(text))

    def send(self, update: dict[str, Any]) -> list[dict[str, str]]:
        mark = len(self.platform.calls)
        assert post(self.channels, update) == 200
        self.last = self.received(mark)
        return self.last

    def received(self, mark: int) -> list[dict[str, str]]:
        """The messages sent to this chat after `mark`, in order."""
        calls = [c for c in self.platform.since(mark, API + "sendMessage")]
        return [f for f in (c.form() for c in calls) if f["chat_id"] == str(self.id)]


def texts(messages: list[dict[str, str]]) -> str:
    return "\n".join(m["text"] for m in messages)


def keyboard(message: dict[str, str]) -> list[dict[str, str]]:
    return [b for row in json.loads(message["reply_markup"])["inline_keyboard"] for b in row]


def test_the_webhook_is_registered_with_its_secret_token(channels, platform):
    [registered] = [c.form() for c in platform.since(0, API + "setWebhook")]
    assert registered["url"] == TELEGRAM["TELEGRAM_WEBHOOK_URL"]
    assert registered["secret_token"] == SECRET


def test_a_question_is_answered(channels, platform):
    chat = Chat(channels, platform)
    answer = texts(chat.say("what causes sciatica?"))
    assert "sciatica, common causes" in answer.lower() and "herniated" in answer.lower()
    assert all(len(m["text"]) <= 4096 for m in chat.last)


def test_buttons_are_an_inline_keyboard_and_a_booking_ends_with_its_reference(channels, platform):
    chat = Chat(channels, platform)
    asked = texts(chat.say("I'd like to book an appointment"))
    if "been to" not in asked:  # the reason is asked first
        chat.say("lower back pain")
    chat.say("it's my first visit")
    offers = chat.say("as soon as possible")
    slots = keyboard(offers[-1])
    assert 1 <= len(slots) <= 3
    assert all(b["callback_data"].startswith('/inform{"appointment_slot"') for b in slots)
    assert "full name" in texts(chat.tap(slots[0]["text"]))
    chat.say("Dana Whitfield")
    confirm = chat.say("dana.whitfield@example.com")
    assert slots[0]["text"] in texts(confirm) and "Dana Whitfield" in texts(confirm)
    assert [b["text"] for b in keyboard(confirm[-1])] == ["Yes", "No"]
    done = texts(chat.tap("Yes"))
    assert REFERENCE.search(done), done
    said = channels.user_texts(str(chat.id))
    assert said.count("/affirm") == 1 and said[-1] == "/affirm"  # the tap, as its payload


def test_a_red_flag_reply_comes_first_with_the_number(channels, platform):
    chat = Chat(channels, platform)
    first, *_ = chat.say(RED_FLAG)
    assert first["text"].startswith("Call 911 now")
    assert red_flag_call(first["text"]) == "911"


@pytest.mark.parametrize("secret", [None, "", "wrong-secret-token", SECRET.upper()])
def test_an_update_without_the_right_secret_token_is_refused(channels, platform, secret):
    chat = Chat(channels, platform)
    mark = len(platform.calls)
    assert post(channels, chat.message("I'd like to book an appointment"), secret) == 403
    time.sleep(2)
    assert chat.received(mark) == []
    assert channels.user_texts(str(chat.id)) == []  # it reached no conversation
    tapped = sample("telegram_callback_query")
    tapped["callback_query"]["message"]["chat"]["id"] = chat.id
    assert post(channels, tapped, secret) == 403
    assert platform.since(mark, "/telegram/") == []


def test_an_update_delivered_again_is_answered_once(channels, platform):
    chat = Chat(channels, platform)
    update = chat.message("what causes sciatica?")
    assert chat.send(update)
    mark = len(platform.calls)
    assert post(channels, update) == 200
    time.sleep(2)
    assert chat.received(mark) == []
    assert channels.user_texts(str(chat.id)) == ["what causes sciatica?"]
