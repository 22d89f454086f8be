"""Slack end to end: Slack's own Events API callbacks and interactive payloads (recorded
samples), signed with the signing secret, posted to the running assistant, and what reached
the stand-in for Slack's Web API, as the person's Slack shows it. The webhook answers at
once and the turn runs after it, so replies are waited for."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.channels.conftest import SLACK

pytestmark = pytest.mark.model

SAMPLES = Path(__file__).parent / "samples"
HOOK = "/webhooks/slack/webhook"
API = "/slack/api/chat.postMessage"
SECRET = SLACK["SLACK_SIGNING_SECRET"]
RED_FLAG = "I suddenly can't control my bladder and my groin is numb"
_ids = itertools.count(int(time.time()) % 1_000_000 * 1000)


def sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def signed(body: bytes, at: float | None = None, secret: str = SECRET) -> dict[str, str]:
    """Slack's headers: v0 HMAC-SHA256 of "v0:{timestamp}:{body}"."""
    timestamp = str(int(time.time() if at is None else at))
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


def post(
    channels, body: bytes, content_type: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """Slack's request: signed now unless `headers` say else (None values left out)."""
    given = {**signed(body), **(headers or {})}
    sent = {k: v for k, v in given.items() if v is not None}
    request = urllib.request.Request(
        channels.url(HOOK), data=body, headers={"Content-Type": content_type, **sent}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def as_json(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


def as_form(payload: dict[str, Any]) -> bytes:
    return urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()


class DirectMessage:
    """One person writing to the clinic's app in a direct message."""

    def __init__(self, channels, platform) -> None:
        self.channels, self.platform = channels, platform
        n = next(_ids)
        self.user, self.channel = f"U0P{n}", f"D0P{n}"
        self.last: list[dict[str, Any]] = []
        self.tapped = b""  # the latest tap's body

    def event(self, text: str) -> dict[str, Any]:
        event = sample("slack_message_im")
        event["event_id"] = f"Ev0{next(_ids)}"
        ts = f"{time.time():.6f}"
        event["event"].update(text=text, user=self.user, channel=self.channel, ts=ts, event_ts=ts)
        return event

    def tap(self, title: str) -> list[dict[str, Any]]:
        """Tap the button `title` of the latest message that has buttons."""
        [shown] = [m for m in self.last if m.get("blocks")][-1:]
        [button] = [b for b in buttons(shown) if b["text"]["text"] == title]
        payload = sample("slack_block_actions")
        payload["trigger_id"] = f"{next(_ids)}.1234567890123.abc"
        payload["user"]["id"] = self.user
        payload["channel"]["id"] = payload["container"]["channel_id"] = self.channel
        payload["message"].update(text=shown["text"], blocks=shown["blocks"])
        payload["actions"] = [{**button, "block_id": "a1", "action_ts": f"{time.time():.6f}"}]
        self.tapped = as_form(payload)
        return self.send(self.tapped, "application/x-www-form-urlencoded")

    def say(self, text: str) -> list[dict[str, Any]]:
        return self.send(as_json(self.event(text)), "application/json")

    def send(self, body: bytes, content_type: str) -> list[dict[str, Any]]:
        mark = len(self.platform.calls)
        status, _ = post(self.channels, body, content_type)
        assert status == 200
        self.last = self.received(mark, wait=True)
        return self.last

    def received(self, mark: int, wait: bool = False) -> list[dict[str, Any]]:
        """The messages posted to this DM after `mark`, in order (waited for if `wait`)."""
        deadline = time.monotonic() + 60
        while True:
            if wait:
                self.platform.wait(mark, API)
            calls = self.platform.since(mark, API)
            mine = [c.json() for c in calls if c.json().get("channel") == self.channel]
            if mine or not wait or time.monotonic() > deadline:
                return mine
            time.sleep(0.5)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e
        for block in message.get("blocks") or []
        if block["type"] == "actions"
        for e in block["elements"]
    ]


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m["text"] for m in messages)


def test_the_url_verification_challenge_is_answered(channels):
    challenge = sample("slack_url_verification")
    status, body = post(channels, as_json(challenge), "application/json")
    assert (status, json.loads(body)) == (200, {"challenge": challenge["challenge"]})


def test_a_question_is_answered(channels, platform):
    dm = DirectMessage(channels, platform)
    replies = dm.say("what causes sciatica?")
    answer = texts(replies).lower()
    assert "sciatica, common causes" in answer and "herniated" in answer
    calls = platform.since(0, API)
    assert all(c.headers["authorization"] == f"Bearer {SLACK['SLACK_BOT_TOKEN']}" for c in calls)


def test_buttons_are_block_kit_and_a_tap_continues_the_conversation(channels, platform):
    dm = DirectMessage(channels, platform)
    asked = texts(dm.say("I'd like to book an appointment"))
    if "been to" not in asked:  # the reason is asked first
        dm.say("lower back pain")
    dm.say("it's my first visit")
    offers = dm.say("as soon as possible")
    shown = offers[-1]
    section, *actions = shown["blocks"]
    assert section["type"] == "section" and section["text"]["text"] == shown["text"]
    assert {a["type"] for a in actions} == {"actions"}
    slots = buttons(shown)
    assert 1 <= len(slots) <= 3 and all(b["type"] == "button" for b in slots)
    assert all(b["value"].startswith('/inform{"appointment_slot"') for b in slots)
    assert "full name" in texts(dm.tap(slots[0]["text"]["text"]))
    assert channels.user_texts(dm.user)[-1] == slots[0]["value"]  # the tap, as its payload
    mark = len(platform.calls)  # the same tap delivered again (same trigger_id): answered once
    assert post(channels, dm.tapped, "application/x-www-form-urlencoded")[0] == 200
    time.sleep(2)
    assert dm.received(mark) == [] and channels.user_texts(dm.user).count(slots[0]["value"]) == 1


def test_a_red_flag_reply_comes_first_with_the_number_as_a_link(channels, platform):
    dm = DirectMessage(channels, platform)
    first, *_ = dm.say(RED_FLAG)
    assert first["text"].startswith("Call <tel:911|911> now")


def _refusals() -> list[tuple[str, Any]]:
    stale = time.time() - 6 * 60
    return [
        ("no signature", {"X-Slack-Signature": None}),
        ("no timestamp", {"X-Slack-Request-Timestamp": None}),
        ("no headers", {"X-Slack-Signature": None, "X-Slack-Request-Timestamp": None}),
        ("wrong signature", {"X-Slack-Signature": "v0=" + "0" * 64}),
        ("another secret", lambda body: signed(body, secret="not-the-signing-secret")),
        ("stale", lambda body: signed(body, at=stale)),
        ("from the future", lambda body: signed(body, at=time.time() + 6 * 60)),
    ]


@pytest.mark.parametrize("kind", ["event", "button", "challenge"])
@pytest.mark.parametrize("case", [name for name, _ in _refusals()])
def test_a_request_not_signed_by_slack_is_refused(channels, platform, kind, case):
    dm = DirectMessage(channels, platform)
    if kind == "event":
        body, content_type = (
            as_json(dm.event("I'd like to book an appointment")),
            "application/json",
        )
    elif kind == "button":
        payload = sample("slack_block_actions")
        payload["user"]["id"], payload["channel"]["id"] = dm.user, dm.channel
        body, content_type = as_form(payload), "application/x-www-form-urlencoded"
    else:
        body, content_type = as_json(sample("slack_url_verification")), "application/json"
    headers = dict(_refusals())[case]
    mark = len(platform.calls)
    status, answer = post(
        channels, body, content_type, headers(body) if callable(headers) else headers
    )
    assert status == 403 and b"challenge" not in answer.lower() and b"3eZbrw1" not in answer
    time.sleep(2 if kind != "challenge" else 0)
    assert platform.since(mark, "/slack/") == []
    assert channels.user_texts(dm.user) == []  # it reached no conversation


def test_an_event_slack_resends_is_answered_once(channels, platform):
    dm = DirectMessage(channels, platform)
    event = as_json(dm.event("what causes sciatica?"))
    assert dm.send(event, "application/json")
    mark = len(platform.calls)
    retry = {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"}
    status, _ = post(channels, event, "application/json", {**signed(event), **retry})
    assert status == 200
    time.sleep(3)
    assert dm.received(mark) == []
    assert channels.user_texts(dm.user) == ["what causes sciatica?"]
