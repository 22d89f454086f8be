"""The widget's channel without a model: what `WebchatOutput` emits on the socket for an
ordinary answer, a red-flag reply (marked urgent, its number a tel: link) and buttons. The
socket server is replaced by a recorder of `emit` calls; the whole path, socket.io and the
widget included, is in tests/web/test_widget_browser.py."""

from __future__ import annotations

import asyncio
from typing import Any

from actions.triage.replies import triage_reply
from addons.channels.webchat import URGENT_CLASS, WebchatInput, WebchatOutput, urgent_markdown
from clinic.knowledge import knowledge
from clinic.red_flags import red_flags_in

URGENT = {"customCss": {"style": "class", "css": URGENT_CLASS}}


class Emits:
    """Stands in for python-socketio's AsyncServer: records what would go to the browser."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any, str]] = []

    async def emit(self, event: str, data: Any = None, room: str = "", **_: Any) -> None:
        self.sent.append((event, data, room))


def emitted(texts: list[str], buttons: list[dict] | None = None) -> list[dict]:
    sio = Emits()
    output = WebchatOutput(sio, "bot_uttered")  # type: ignore[arg-type]
    for text in texts:
        if buttons:
            asyncio.run(output.send_text_with_buttons("room1", text, buttons))
        else:
            asyncio.run(output.send_text_message("room1", text))
    assert {(event, room) for event, _, room in sio.sent} == {("bot_uttered", "room1")}
    return [data for _, data, _ in sio.sent]


def test_an_ordinary_answer_goes_out_as_rasa_sends_it():
    assert emitted(["Sciatica is nerve pain.\n\nIt often settles."]) == [
        {"text": "Sciatica is nerve pain."},
        {"text": "It often settles."},
    ]


def test_a_red_flag_reply_is_marked_urgent_and_its_number_is_a_tel_link():
    number = knowledge().clinic.emergency_number
    hits = red_flags_in("since this morning I can't control my bladder")
    assert [h.route for h in hits] == ["emergency"], hits
    texts = triage_reply(hits)
    messages = emitted(texts)
    first = messages[0]
    assert first["text"].startswith(f"Call [{number}](tel:{number}) now")
    assert first["metadata"] == URGENT
    # The follow-up ("Once you have been seen ...") is not urgent itself.
    assert all("metadata" not in m for m in messages[1:])
    assert first["text"].replace(f"[{number}](tel:{number})", number) == texts[0]


def test_the_number_is_dialled_without_spaces_or_brackets():
    text, metadata = urgent_markdown("Please call +1 555 010-9999 now: this is urgent.")
    assert text == "Please call [+1 555 010-9999](tel:+15550109999) now: this is urgent."
    assert metadata == URGENT
    assert urgent_markdown("You could call us on 555 010 9999.") == (
        "You could call us on 555 010 9999.",
        None,
    )


def test_buttons_stay_on_the_last_part_as_quick_replies():
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    messages = emitted(["First part.\n\nShall we?"], buttons)
    assert messages == [
        {"text": "First part.", "quick_replies": []},
        {
            "text": "Shall we?",
            "quick_replies": [
                {"content_type": "text", "title": "Yes", "payload": "/affirm"},
                {"content_type": "text", "title": "No", "payload": "/deny"},
            ],
        },
    ]


def test_the_input_keeps_rasas_name_and_answers_through_the_widget_output():
    channel = WebchatInput.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered"}
    )
    assert channel.name() == "socketio"
    channel.blueprint(lambda message: asyncio.sleep(0))
    assert isinstance(channel.get_output_channel(), WebchatOutput)
