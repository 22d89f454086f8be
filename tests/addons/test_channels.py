"""Messaging channels: configured from the environment, off unless their variables are set,
and buttons turned into numbered options where a channel has none (Twilio SMS/WhatsApp)."""

from __future__ import annotations

import asyncio

import yaml

from tests.helpers import ROOT

CHANNEL_VARIABLES = {
    "addons.channels.telegram.SignedTelegramInput": [
        "TELEGRAM_ACCESS_TOKEN",
        "TELEGRAM_BOT_NAME",
        "TELEGRAM_WEBHOOK_URL",
        "TELEGRAM_SECRET_TOKEN",
    ],
    "addons.channels.facebook.SignedFacebookInput": [
        "FACEBOOK_VERIFY_TOKEN",
        "FACEBOOK_APP_SECRET",
        "FACEBOOK_PAGE_ACCESS_TOKEN",
    ],
    "addons.channels.slack.SignedSlackInput": ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"],
    "addons.channels.twilio.NumberedTwilioInput": [
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_NUMBER",
    ],
}

#: The widget's channel: Rasa's socket.io, named "socketio" (addons/channels/webchat.py).
WEBCHAT = "addons.channels.webchat.WebchatInput"


def _credentials() -> dict:
    return yaml.safe_load((ROOT / "credentials.yml").read_text())


def test_widget_settings_are_what_rasa_webchat_needs():
    socket = _credentials()[WEBCHAT]
    assert socket == {
        "user_message_evt": "user_uttered",
        "bot_message_evt": "bot_uttered",
        "session_persistence": True,
        "metadata_key": "customData",
    }


def test_messaging_channels_stay_off_until_their_variables_are_set(monkeypatch):
    from scripts.run import channels_on

    for names in CHANNEL_VARIABLES.values():
        for name in names:
            monkeypatch.delenv(name, raising=False)
    on, off = channels_on(_credentials())
    assert set(on) == {"rest", WEBCHAT}
    assert set(off) == set(CHANNEL_VARIABLES)

    telegram = "addons.channels.telegram.SignedTelegramInput"
    for name in CHANNEL_VARIABLES[telegram][:-1]:  # one variable still missing
        monkeypatch.setenv(name, "x")
    assert telegram not in channels_on(_credentials())[0]


def test_every_channel_loads_in_rasa_when_configured(monkeypatch, tmp_path):
    """With all variables set, Rasa builds all six input channels from the file."""
    from rasa.core.run import create_http_input_channels

    from scripts.run import channels_on

    for names in CHANNEL_VARIABLES.values():
        for name in names:
            monkeypatch.setenv(name, "https://example.org/hook" if "URL" in name else "x1")
    on, off = channels_on(_credentials())
    assert off == []
    path = tmp_path / "credentials.yml"
    path.write_text(yaml.safe_dump(on))
    channels = create_http_input_channels(None, str(path))
    names = sorted(c.name() for c in channels)
    assert names == ["facebook", "rest", "slack", "socketio", "telegram", "twilio"]


class _Recorder:
    """The Twilio HTTP call is the boundary we cannot reach here: record what would go out."""

    def __init__(self) -> None:
        self.sent: list[str] = []


def _output():
    from addons.channels.twilio import NumberedTwilioOutput

    recorder = _Recorder()
    out = NumberedTwilioOutput("AC00000000000000000000000000000000", "token", "+15550100199")

    async def send(message_data):
        recorder.sent.append(message_data["body"])

    out._send_message = send
    return out, recorder


def test_buttons_become_numbered_options_and_a_number_picks_one():
    from addons.channels.twilio import chosen

    out, recorder = _output()
    buttons = [
        {"title": "Thu 26 Nov, 10:00", "payload": '/inform{"appointment_slot": "k1"}'},
        {"title": "Thu 26 Nov, 10:30", "payload": '/inform{"appointment_slot": "k2"}'},
    ]
    asyncio.run(out.send_text_with_buttons("+13125550142", "Pick a time:", buttons))
    assert recorder.sent == [
        "Pick a time:\n1. Thu 26 Nov, 10:00\n2. Thu 26 Nov, 10:30\n"
        "Reply with a number, or type your answer."
    ]
    assert chosen("+13125550142", " 2 ") == '/inform{"appointment_slot": "k2"}'
    assert chosen("+13125550142", "3") is None
    assert chosen("+13125550142", "the second one") is None
    assert chosen("+19999999999", "1") is None  # another person's options


def test_a_single_button_is_a_hint_so_a_score_is_not_read_as_a_choice():
    from addons.channels.twilio import chosen

    out, recorder = _output()
    question = "From 0 to 10, how bad is it?"
    asyncio.run(
        out.send_text_with_buttons("+13125550143", question, [{"title": "Skip", "payload": "skip"}])
    )
    assert recorder.sent == [question + '\n(Or reply "Skip".)']
    assert chosen("+13125550143", "1") is None


# What reaches each platform's API, read by a local stand-in for it (tests/channels/platform.py):
# the connectors' own HTTP clients, pointed at it through their base-URL settings.

LONG = "\n\n".join(
    " ".join(f"Paragraph {p} sentence {s} explains sciatica in plain words." for s in range(20))
    for p in range(12)
)  # about 12,000 characters: several messages on every platform


def _words(pieces: list[str]) -> list[str]:
    return " ".join(pieces).split()


def _twilio_bodies(stub, mark: int) -> list[dict[str, str]]:
    return [c.form() for c in stub.since(mark, "/twilio/") if c.method == "POST"]


def test_a_long_sms_is_sent_in_order_in_pieces_that_fit_and_cut_no_word(monkeypatch):
    from addons.channels.twilio import BODY_LIMIT, NumberedTwilioOutput
    from tests.channels.platform import PlatformStub

    stub = PlatformStub()
    try:
        monkeypatch.setenv("TWILIO_API_URL", f"{stub.url}/twilio")
        out = NumberedTwilioOutput("AC" + "0" * 32, "token", "+15550100199")
        asyncio.run(out.send_text_message("+13125550142", LONG))
        asyncio.run(out.send_text_message("whatsapp:+13125550177", "Hello."))
        [call, *_] = stub.since(0, "/twilio/")
        sent = _twilio_bodies(stub, 0)
    finally:
        stub.close()
    assert call.path == "/twilio/2010-04-01/Accounts/AC" + "0" * 32 + "/Messages.json"
    sms, whatsapp = sent[:-1], sent[-1]
    assert len(sms) > 1 and all(len(m["Body"]) <= BODY_LIMIT for m in sms)
    assert _words([m["Body"] for m in sms]) == LONG.split()  # in order, no word cut
    assert {(m["To"], m["From"]) for m in sms} == {("+13125550142", "+15550100199")}
    assert (whatsapp["To"], whatsapp["From"]) == ("whatsapp:+13125550177", "whatsapp:+15550100199")


def test_twilio_signs_the_public_url_a_proxy_or_the_setting_names(monkeypatch):
    from types import SimpleNamespace

    from addons.channels.twilio import public_url

    request = SimpleNamespace(
        headers={
            "Host": "127.0.0.1:5005",
            "X-Forwarded-Proto": "https, http",
            "X-Forwarded-Host": "clinic.example",
        },
        scheme="http",
        path="/webhooks/twilio/webhook",
        query_string="",
    )
    monkeypatch.delenv("TWILIO_WEBHOOK_URL", raising=False)
    assert public_url(request) == "https://clinic.example/webhooks/twilio/webhook"
    request.headers = {"Host": "127.0.0.1:5005"}
    request.query_string = "a=1"
    assert public_url(request) == "http://127.0.0.1:5005/webhooks/twilio/webhook?a=1"
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", "https://sms.clinic.example/webhooks/twilio/webhook")
    assert public_url(request) == "https://sms.clinic.example/webhooks/twilio/webhook"


def _messenger(stub, monkeypatch):
    from addons.channels.facebook import SignedFacebookInput

    monkeypatch.setenv("FACEBOOK_GRAPH_URL", f"{stub.url}/facebook")
    return SignedFacebookInput("verify", "app-secret", "page-token").get_output_channel()


def _messages(stub) -> list[dict]:
    return [c.json()["message"] for c in stub.since(0, "/facebook/") if "message" in c.json()]


def test_messenger_splits_long_text_within_its_limit_in_order(monkeypatch):
    from addons.channels.facebook import TEXT_LIMIT
    from tests.channels.platform import PlatformStub

    stub = PlatformStub()
    try:
        asyncio.run(_messenger(stub, monkeypatch).send_text_message("6045700000000001", LONG))
        calls, sent = stub.since(0, "/facebook/"), _messages(stub)
    finally:
        stub.close()
    assert {c.path for c in calls} == {"/facebook/me/messages"}
    assert calls[0].query["access_token"] == ["page-token"]
    assert calls[0].query["appsecret_proof"]  # for apps that require the app secret
    assert calls[0].json()["recipient"] == {"id": "6045700000000001"}
    assert len(sent) > 1 and all(len(m["text"]) <= TEXT_LIMIT for m in sent)
    assert _words([m["text"] for m in sent]) == LONG.split()


def test_messenger_buttons_are_quick_replies_with_short_titles(monkeypatch):
    from tests.channels.platform import PlatformStub

    buttons = [
        {"title": f"Option {i}", "payload": f'/inform{{"choice": "{i}"}}'} for i in range(1, 5)
    ]
    buttons.append({"title": "Lumbar spinal stenosis and its treatment", "payload": "/x"})
    stub = PlatformStub()
    try:
        out = _messenger(stub, monkeypatch)
        asyncio.run(out.send_text_with_buttons("6045700000000002", "Which one?", buttons))
        [message] = _messages(stub)
    finally:
        stub.close()
    assert message["text"] == "Which one?"
    replies = message["quick_replies"]
    assert [r["payload"] for r in replies] == [b["payload"] for b in buttons]  # all 5 kept
    assert {r["content_type"] for r in replies} == {"text"}
    assert replies[0]["title"] == "Option 1"
    assert replies[-1]["title"] == "Lumbar spinal…"  # 20 characters at most, at a word
    assert all(len(r["title"]) <= 20 for r in replies)


def test_a_title_a_little_too_long_loses_its_question_mark_not_its_words():
    from addons.channels.facebook import short_title

    assert short_title("What causes sciatica?") == "What causes sciatica"
    assert short_title("Degenerative disc disease") == "Degenerative disc…"
    assert short_title("Supercalifragilisticexpialidocious") == "Supercalifragilisti…"


def test_a_red_flag_leads_with_a_call_button_only_for_a_full_number(monkeypatch):
    from tests.channels.platform import PlatformStub

    abroad = "Call +44 20 7946 0000 now, or go to A&E: this needs urgent medical attention."
    here = "Call 911 now, or go to the nearest emergency department: this needs urgent care."
    stub = PlatformStub()
    try:
        out = _messenger(stub, monkeypatch)
        asyncio.run(out.send_text_message("6045700000000003", abroad))
        asyncio.run(out.send_text_message("6045700000000003", here))
        with_button, plain = _messages(stub)
    finally:
        stub.close()
    template = with_button["attachment"]["payload"]
    assert template["template_type"] == "button" and template["text"] == abroad
    assert template["buttons"] == [
        {"type": "phone_number", "title": "Call +442079460000", "payload": "+442079460000"}
    ]
    assert plain == {"text": here}  # a call button cannot dial 911: the number leads the text


def test_messenger_signature_is_the_sha256_hmac_of_the_raw_body():
    import hashlib
    import hmac

    from addons.channels.facebook import signature_ok

    body = b'{"object": "page", "entry": []}'
    good = "sha256=" + hmac.new(b"app-secret", body, hashlib.sha256).hexdigest()
    assert signature_ok("app-secret", body, good)
    assert not signature_ok("app-secret", body + b" ", good)
    assert not signature_ok("other-secret", body, good)
    assert not signature_ok("app-secret", body, None)
    sha1 = "sha1=" + hmac.new(b"app-secret", body, hashlib.sha1).hexdigest()
    assert not signature_ok("app-secret", body, sha1)  # the old header is not enough
