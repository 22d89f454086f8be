"""Messaging channels: configured from the environment, off unless their variables are set,
and buttons turned into numbered options where a channel has none (Twilio SMS/WhatsApp)."""

from __future__ import annotations

import asyncio

import yaml

from tests.helpers import ROOT

CHANNEL_VARIABLES = {
    "telegram": ["TELEGRAM_ACCESS_TOKEN", "TELEGRAM_BOT_NAME", "TELEGRAM_WEBHOOK_URL"],
    "facebook": ["FACEBOOK_VERIFY_TOKEN", "FACEBOOK_APP_SECRET", "FACEBOOK_PAGE_ACCESS_TOKEN"],
    "slack": ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"],
    "addons.channels.NumberedTwilioInput": [
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_NUMBER",
    ],
}


def _credentials() -> dict:
    return yaml.safe_load((ROOT / "credentials.yml").read_text())


def test_widget_settings_are_what_rasa_webchat_needs():
    socket = _credentials()["socketio"]
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
    assert set(on) == {"rest", "socketio"}
    assert set(off) == set(CHANNEL_VARIABLES)

    for name in CHANNEL_VARIABLES["telegram"][:-1]:  # one variable still missing
        monkeypatch.setenv(name, "x")
    assert "telegram" not in channels_on(_credentials())[0]


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
    from addons.channels import NumberedTwilioOutput

    recorder = _Recorder()
    out = NumberedTwilioOutput("AC00000000000000000000000000000000", "token", "+15550100199")

    async def send(message_data):
        recorder.sent.append(message_data["body"])

    out._send_message = send
    return out, recorder


def test_buttons_become_numbered_options_and_a_number_picks_one():
    from addons.channels import chosen

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
    from addons.channels import chosen

    out, recorder = _output()
    question = "From 0 to 10, how bad is it?"
    asyncio.run(
        out.send_text_with_buttons("+13125550143", question, [{"title": "Skip", "payload": "skip"}])
    )
    assert recorder.sent == [question + '\n(Or reply "Skip".)']
    assert chosen("+13125550143", "1") is None
