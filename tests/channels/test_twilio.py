"""Twilio SMS and WhatsApp end to end: Twilio's own signed form posts (recorded samples) to
the running assistant, and what reached the stand-in for Twilio's API, as a phone shows it."""

from __future__ import annotations

import itertools
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from tests.channels.conftest import TWILIO

pytestmark = pytest.mark.model

SAMPLES = Path(__file__).parent / "samples"
HOOK = "/webhooks/twilio/webhook"
API = f"/twilio/2010-04-01/Accounts/{TWILIO['TWILIO_ACCOUNT_SID']}/Messages.json"
REFERENCE = re.compile(r"\bBK-[A-HJ-NP-Z2-9]{6}\b")
RED_FLAG = "I suddenly can't control my bladder and my groin is numb"
_numbers = itertools.count(100)


def sample(name: str, **fields: str) -> dict[str, str]:
    return {**json.loads((SAMPLES / f"{name}.json").read_text()), **fields}


def signature(url: str, fields: dict[str, str], token: str = TWILIO["TWILIO_AUTH_TOKEN"]) -> str:
    return RequestValidator(token).compute_signature(url, fields)


def post(channels, fields: dict[str, str], headers: dict[str, str] | None = None) -> int:
    """Twilio's request: the form, signed over the URL it calls unless `headers` say else."""
    url = channels.url(HOOK)
    headers = {"X-Twilio-Signature": signature(url, fields), **(headers or {})}
    headers = {k: v for k, v in headers.items() if v is not None}  # None: left out
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as resp:
            assert resp.headers["Content-Type"].startswith("text/xml")
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


class Phone:
    """One person texting the clinic's number (or writing to it on WhatsApp)."""

    def __init__(self, channels, platform, sample_name: str = "twilio_sms") -> None:
        self.channels, self.platform, self.sample_name = channels, platform, sample_name
        self.fields = sample(sample_name)
        prefix = "whatsapp:" if self.fields["From"].startswith("whatsapp:") else ""
        self.number = f"{prefix}+1312555{next(_numbers):04d}"

    def message(self, text: str) -> dict[str, str]:
        sid = f"SM{next(_numbers):032x}"
        return {**self.fields, "From": self.number, "Body": text, "MessageSid": sid, "SmsSid": sid}

    def send(self, text: str, fields: dict[str, str] | None = None) -> list[str]:
        """The messages the phone receives for this one (the webhook answers after them)."""
        mark = len(self.platform.calls)
        assert post(self.channels, fields or self.message(text)) == 200
        return self.received(mark)

    def received(self, mark: int) -> list[str]:
        calls = [
            c for c in self.platform.since(mark, "/twilio/") if c.form().get("To") == self.number
        ]
        assert all(c.path == API and c.method == "POST" for c in calls)
        return [c.form()["Body"] for c in calls]

    def tracker(self) -> dict:
        sender = urllib.parse.quote(self.number, safe="+:")
        url = self.channels.url(f"/conversations/{sender}/tracker?token={self.channels.token}")
        with urllib.request.urlopen(url, timeout=30) as resp:
            return json.loads(resp.read())

    def slot(self, name: str):
        return self.tracker()["slots"].get(name)

    def said(self) -> list[str]:
        """What the conversation holds from the person."""
        return [e.get("text") for e in self.tracker()["events"] if e["event"] == "user"]


def test_an_sms_question_is_answered_by_sms_from_the_clinic_number(channels, platform):
    phone = Phone(channels, platform)
    mark = len(platform.calls)
    replies = phone.send("what causes sciatica?")
    assert replies and "sciatica" in " ".join(replies).lower()
    [first, *_] = [c for c in platform.since(mark, "/twilio/") if c.form()["To"] == phone.number]
    assert first.form()["From"] == TWILIO["TWILIO_NUMBER"]
    assert first.headers["authorization"].startswith("Basic ")  # account SID and auth token
    assert all(len(body) <= 1600 for body in replies)


def test_a_whatsapp_message_is_answered_on_whatsapp(channels, platform):
    phone = Phone(channels, platform, "twilio_whatsapp")
    mark = len(platform.calls)
    replies = phone.send("what causes sciatica?")
    assert "sciatica" in " ".join(replies).lower()
    calls = [c.form() for c in platform.since(mark, "/twilio/") if c.form()["To"] == phone.number]
    assert {c["From"] for c in calls} == {"whatsapp:" + TWILIO["TWILIO_NUMBER"]}


def test_buttons_are_numbered_options_and_a_booking_by_sms_ends_with_its_reference(
    channels, platform
):
    phone = Phone(channels, platform)
    replies = phone.send("I'd like to book an appointment")
    if phone.slot("requested_slot") == "booking_reason":
        replies = phone.send("lower back pain")
    text = "\n".join(replies)
    options = re.findall(r"^(\d)\. (.+)$", text, flags=re.M)
    if options:  # new or returning patient as a choice: answer with its number
        assert "Reply with a number" in text
        [number] = [n for n, title in options if "first" in title.lower() or "new" in title.lower()]
        phone.send(number)
    else:
        phone.send("it's my first visit")
    assert phone.slot("patient_type") == "new"

    offers = "\n".join(phone.send("as soon as possible"))
    slots = re.findall(r"^(\d)\. (.+)$", offers, flags=re.M)
    assert slots and slots[0][0] == "1", offers  # the times offered, numbered
    assert "Reply with a number, or type your answer." in offers
    asked = "\n".join(phone.send("1"))  # the first time offered, by its number
    assert phone.slot("appointment_slot"), asked
    assert "name" in asked.lower()
    phone.send("Zoë O'Brien-Núñez")  # not ASCII: form-encoded as UTF-8 by Twilio
    confirm = "\n".join(phone.send("you can reach me on zoe.obrien@example.com"))
    assert phone.slot("patient_email") == "zoe.obrien@example.com"
    assert slots[0][1] in confirm and "Zoë O'Brien-Núñez" in confirm
    done = "\n".join(phone.send("yes"))
    assert REFERENCE.search(done), done


def test_the_red_flag_warning_comes_first_with_the_number_to_call(channels, platform):
    replies = Phone(channels, platform).send(RED_FLAG)
    assert replies[0].startswith("Call 911 now"), replies


def test_a_message_twilio_sends_again_is_answered_once(channels, platform):
    phone = Phone(channels, platform)
    fields = phone.message("what causes sciatica?")
    mark = len(platform.calls)
    first = phone.send("", fields)
    assert first
    assert post(channels, fields) == 200  # Twilio's retry after a timeout: same MessageSid
    assert phone.received(mark) == first  # nothing more reached the phone


def test_a_request_through_a_proxy_is_checked_against_the_public_url(channels, platform):
    phone = Phone(channels, platform)
    fields = phone.message("what causes sciatica?")
    public = "https://clinic.example" + HOOK
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "clinic.example"}
    mark = len(platform.calls)
    # signed over the loopback URL, but Twilio called the public one: refused
    assert post(channels, fields, forwarded) == 403
    assert phone.received(mark) == []
    signed = {**forwarded, "X-Twilio-Signature": signature(public, fields)}
    assert post(channels, fields, signed) == 200
    assert phone.received(mark)


@pytest.mark.parametrize(
    "tamper",
    ["no signature", "wrong token", "changed body", "another URL"],
)
def test_an_unsigned_or_forged_request_is_refused_and_reaches_no_one(channels, platform, tamper):
    phone = Phone(channels, platform)
    fields = phone.message("I'd like to book an appointment")
    url = channels.url(HOOK)
    headers = {
        "no signature": {"X-Twilio-Signature": None},
        "wrong token": {"X-Twilio-Signature": signature(url, fields, "not-the-auth-token")},
        "changed body": {"X-Twilio-Signature": signature(url, {**fields, "Body": "hello"})},
        "another URL": {"X-Twilio-Signature": signature(url + "?x=1", fields)},
    }[tamper]
    mark = len(platform.calls)
    assert post(channels, fields, headers) == 403
    assert phone.received(mark) == []
    assert phone.said() == []  # it reached no conversation
