"""The Telegram connector without a model: what its output sends to a loopback stand-in for
the Bot API (real aiogram requests), how it registers the webhook, and its refusal to run
without a secret token."""

from __future__ import annotations

import asyncio
import json

import pytest
from aiogram.types import CallbackQuery
from rasa.shared.exceptions import InvalidConfigException

from addons.channels.telegram import (
    MESSAGE_LIMIT,
    SignedTelegramInput,
    SignedTelegramOutput,
    close_session,
    keyboard_rows,
)
from tests.channels.platform import PlatformStub

TOKEN = "123456789:TEST-telegram-token"
WARNING = (
    "Call 911 now, or go to the nearest emergency department: this needs urgent medical attention."
)


@pytest.fixture
def api(stub: PlatformStub, monkeypatch) -> PlatformStub:
    monkeypatch.setenv("TELEGRAM_API_URL", f"{stub.url}/telegram")
    return stub


def sent(stub: PlatformStub, mark: int, method: str = "sendMessage") -> list[dict[str, str]]:
    return [c.form() for c in stub.since(mark, "/telegram/") if c.path.endswith(f"/{method}")]


async def _run(out: SignedTelegramOutput, coro) -> None:
    try:
        await coro
    finally:
        await close_session(out)


def send(out: SignedTelegramOutput, method: str, *args) -> None:
    asyncio.run(_run(out, getattr(out, method)(*args)))


def test_a_long_answer_is_sent_in_order_in_pieces_that_fit(api):
    text = "\n\n".join(
        f"Paragraph {i}. " + " ".join(f"sentence{i}x{j} about the spine." for j in range(60))
        for i in range(8)
    )
    assert len(text) > 3 * MESSAGE_LIMIT
    mark = len(api.calls)
    send(SignedTelegramOutput(TOKEN), "send_text_message", "42", text)
    pieces = [m["text"] for m in sent(api, mark)]
    assert len(pieces) > 3 and all(len(p) <= MESSAGE_LIMIT for p in pieces)
    assert " ".join(pieces).split() == text.split()  # order kept, no word cut
    assert {m["chat_id"] for m in sent(api, mark)} == {"42"}
    assert api.since(mark)[0].path == f"/telegram/bot{TOKEN}/sendMessage"


def test_buttons_are_an_inline_keyboard_under_the_last_piece(api):
    buttons = [
        {"title": "Thu 26 Nov, 10:00", "payload": '/inform{"appointment_slot": "k1"}'},
        {"title": "Thu 26 Nov, 10:30", "payload": '/inform{"appointment_slot": "k2"}'},
    ]
    question = (
        "Which of these times suits you best? They are the free times nearest to the time "
        "you asked for, with any of our chiropractors."
    )
    text = "Word " * 800 + "\n\n" + question  # over 4096 characters: the question apart
    mark = len(api.calls)
    send(SignedTelegramOutput(TOKEN), "send_text_with_buttons", "42", text, buttons)
    messages = sent(api, mark)
    assert len(messages) == 2 and "reply_markup" not in messages[0]
    assert messages[1]["text"] == question
    assert json.loads(messages[1]["reply_markup"]) == {
        "inline_keyboard": [
            [{"text": "Thu 26 Nov, 10:00", "callback_data": '/inform{"appointment_slot": "k1"}'}],
            [{"text": "Thu 26 Nov, 10:30", "callback_data": '/inform{"appointment_slot": "k2"}'}],
        ]
    }


def test_other_button_types_are_still_inline(api):
    mark = len(api.calls)
    yes_no = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    out = SignedTelegramOutput(TOKEN)
    send(out, "send_text_with_buttons", "42", "Book it?", yes_no, "reply")
    markup = json.loads(sent(api, mark)[0]["reply_markup"])
    assert markup == {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "/affirm"}, {"text": "No", "callback_data": "/deny"}]
        ]
    }


def test_short_titles_share_a_row_long_ones_get_their_own():
    assert keyboard_rows(["Yes", "No"]) == [[0, 1]]
    assert keyboard_rows(["Sciatica", "Neck pain", "Headaches", "Scoliosis"]) == [
        [0],
        [1],
        [2],
        [3],
    ]
    assert keyboard_rows(["Thu 26 Nov, 10:00", "Thu 26 Nov, 10:30"]) == [[0], [1]]


def _query(data: str, keyboard: list[list[dict[str, str]]] | None = None) -> CallbackQuery:
    message = {"message_id": 5, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "?"}
    if keyboard is not None:
        message["reply_markup"] = {"inline_keyboard": keyboard}
    return CallbackQuery(id="1", chat_instance="1", data=data, message=message)


def test_a_payload_longer_than_64_bytes_travels_as_a_token(api):
    payload = '/ask_treatment{"condition": "degenerative_disc_disease", "treatment": "massage"}'
    assert len(payload.encode()) > 64
    out = SignedTelegramOutput(TOKEN)
    mark = len(api.calls)
    send(out, "send_text_with_buttons", "42", "More?", [{"title": "Insurance", "payload": payload}])
    [[button]] = json.loads(sent(api, mark)[0]["reply_markup"])["inline_keyboard"]
    assert len(button["callback_data"].encode()) <= 64
    assert out.pressed(_query(button["callback_data"])) == payload
    # after a restart the token is forgotten: the tapped button's title is read instead
    fresh = SignedTelegramOutput(TOKEN)
    assert fresh.pressed(_query(button["callback_data"], [[button]])) == "Insurance"
    assert fresh.pressed(_query("/affirm")) == "/affirm"


def test_a_red_flag_reply_goes_out_first_and_whole_with_the_plain_number(api):
    mark = len(api.calls)
    send(SignedTelegramOutput(TOKEN), "send_text_message", "42", WARNING + "\n\nMore advice.")
    [message] = sent(api, mark)
    assert message["text"].startswith("Call 911 now")
    assert "parse_mode" not in message  # plain text: the number is shown as it is


def test_the_webhook_is_registered_with_the_secret_token(api):
    channel = SignedTelegramInput(TOKEN, "clinic_bot", "https://clinic.example/hook", "s3cret-T")
    mark = len(api.calls)
    asyncio.run(channel.register_webhook())
    [registered] = sent(api, mark, "setWebhook")
    assert registered["url"] == "https://clinic.example/hook"
    assert registered["secret_token"] == "s3cret-T"
    assert json.loads(registered["allowed_updates"]) == [
        "message",
        "edited_message",
        "callback_query",
    ]


@pytest.mark.parametrize("secret", ["", None, "has space", "x" * 257, "semi;colon"])
def test_it_will_not_run_without_a_usable_secret_token(secret):
    credentials = {"access_token": TOKEN, "verify": "b", "webhook_url": "https://h/w"}
    with pytest.raises(InvalidConfigException, match="secret_token"):
        SignedTelegramInput.from_credentials({**credentials, "secret_token": secret})
