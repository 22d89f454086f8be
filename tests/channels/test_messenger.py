"""Facebook Messenger end to end: Meta's own signed webhook events (recorded samples) to the
running assistant, and what reached the stand-in for the Send API, as Messenger shows it."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.channels.conftest import FACEBOOK

pytestmark = pytest.mark.model

SAMPLES = Path(__file__).parent / "samples"
HOOK = "/webhooks/facebook/webhook"
SECRET = FACEBOOK["FACEBOOK_APP_SECRET"]
RED_FLAG = "I suddenly can't control my bladder and my groin is numb"
_ids = itertools.count(1)


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(channels, body: bytes, headers: dict[str, str | None] | None = None) -> int:
    """Meta's request: the JSON body, signed with the app secret unless `headers` say else."""
    headers = {"X-Hub-Signature-256": sign(body), **(headers or {})}
    request = urllib.request.Request(
        channels.url(HOOK),
        data=body,
        headers={
            "Content-Type": "application/json",
            **{k: v for k, v in headers.items() if v is not None},
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


class Person:
    """One person writing to the clinic's page (their page-scoped id)."""

    def __init__(self, channels, platform) -> None:
        self.channels, self.platform = channels, platform
        self.psid = f"60457{next(_ids):011d}"

    def event(self, sample: str, text: str | None = None, payload: str | None = None) -> bytes:
        """A recorded sample from this person, with a new message id."""
        data = json.loads((SAMPLES / f"{sample}.json").read_text())
        event = data["entry"][0]["messaging"][0]
        event["sender"]["id"] = self.psid
        inner = event.get("message") or event["postback"]
        inner["mid"] = f"m_{self.psid}_{next(_ids)}"
        if text is not None:
            inner["text" if "message" in event else "title"] = text
        if payload is not None:
            if "message" in event:
                inner["quick_reply"] = {"payload": payload}
            else:
                inner["payload"] = payload
        return json.dumps(data).encode()

    def send(self, body: bytes) -> list[dict[str, Any]]:
        """The messages Messenger shows this person for one event (answered before 200)."""
        mark = len(self.platform.calls)
        assert post(self.channels, body) == 200
        return self.received(mark)

    def say(self, text: str) -> list[dict[str, Any]]:
        return self.send(self.event("messenger_text", text=text))

    def received(self, mark: int) -> list[dict[str, Any]]:
        bodies = [c.json() for c in self.platform.since(mark, "/facebook/")]
        mine = [b for b in bodies if b["recipient"]["id"] == self.psid]
        return [b["message"] for b in mine if "message" in b]

    def said(self) -> list[str]:
        return self.channels.user_texts(self.psid)


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(
        m.get("text") or m.get("attachment", {}).get("payload", {}).get("text", "")
        for m in messages
    )


def test_a_question_is_answered_through_the_send_api(channels, platform):
    person = Person(channels, platform)
    mark = len(platform.calls)
    replies = person.say("what causes sciatica?")
    assert "sciatica" in texts(replies).lower()
    calls = [c for c in platform.since(mark, "/facebook/") if "message" in c.json()]
    assert {c.path for c in calls} == {"/facebook/me/messages"}
    assert calls[0].query["access_token"] == [FACEBOOK["FACEBOOK_PAGE_ACCESS_TOKEN"]]
    assert calls[0].json()["messaging_type"] == "RESPONSE"
    assert all(len(m.get("text", "")) <= 2000 for m in replies)
    actions = [c.json().get("sender_action") for c in platform.since(mark, "/facebook/")]
    assert actions[:2] == ["mark_seen", "typing_on"]  # the person sees it read and typing


def test_buttons_are_quick_replies_and_a_tap_continues_the_conversation(channels, platform):
    person = Person(channels, platform)
    replies = person.say("hello")
    offered = [q for m in replies for q in m.get("quick_replies") or []]
    assert offered, replies
    assert all(q["content_type"] == "text" and len(q["title"]) <= 20 for q in offered)
    assert all(q["payload"].startswith("/") for q in offered)
    [causes] = [q for q in offered if q["title"] == "What causes sciatica"]  # no "?": 20

    answer = person.send(person.event("messenger_quick_reply", causes["title"], causes["payload"]))
    assert person.said()[-1] == causes["payload"]  # the tap came back as its payload
    assert "sciatica" in texts(answer).lower()


def test_a_postback_continues_the_conversation(channels, platform):
    person = Person(channels, platform)
    person.say("hi")
    answer = person.send(person.event("messenger_postback", payload="/request_appointment"))
    assert person.said()[-1] == "/request_appointment"
    assert answer and "?" in texts(answer)  # the booking's first question


def test_the_red_flag_warning_is_the_first_message_with_the_number(channels, platform):
    replies = Person(channels, platform).say(RED_FLAG)
    assert replies and replies[0]["text"].startswith("Call 911 now"), replies


def test_a_redelivered_event_is_answered_once(channels, platform):
    person = Person(channels, platform)
    body = person.event("messenger_text", text="what causes sciatica?")
    mark = len(platform.calls)
    first = person.send(body)
    assert first
    assert post(channels, body) == 200  # Meta delivers the same mid again
    assert person.received(mark) == first
    assert person.said().count("what causes sciatica?") == 1


@pytest.mark.parametrize("tamper", ["no signature", "wrong secret", "changed body", "sha1 only"])
def test_an_unsigned_or_forged_event_is_refused_and_reaches_no_one(channels, platform, tamper):
    person = Person(channels, platform)
    body = person.event("messenger_text", text="I'd like to book an appointment")
    other = body.replace(b"book an appointment", b"cancel my appointment")
    headers: dict[str, str | None] = {
        "no signature": {"X-Hub-Signature-256": None},
        "wrong secret": {"X-Hub-Signature-256": sign(body, "not-the-app-secret")},
        "changed body": {"X-Hub-Signature-256": sign(other)},
        "sha1 only": {
            "X-Hub-Signature-256": None,
            "X-Hub-Signature": "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest(),
        },
    }[tamper]
    mark = len(platform.calls)
    assert post(channels, body, headers) == 403
    assert platform.since(mark, "/facebook/") == []  # not even "seen" or "typing"
    assert person.said() == []


def test_the_verify_token_handshake(channels):
    def handshake(token: str) -> tuple[int, str]:
        query = urllib.parse.urlencode(
            {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
        )
        try:
            with urllib.request.urlopen(channels.url(f"{HOOK}?{query}"), timeout=30) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as err:
            return err.code, ""

    assert handshake(FACEBOOK["FACEBOOK_VERIFY_TOKEN"]) == (200, "1158201444")
    assert handshake("not-the-token")[0] == 403
