"""Twilio (SMS and WhatsApp) with buttons as numbered options.

Rasa's own Twilio connector sends each button as a separate message showing its raw payload
("1: Yes (/affirm)"). SMS and WhatsApp have no buttons, so this one sends one message with
numbered choices and reads a reply of just that number as the choice, the way a person
expects. A single button (usually "Skip") is shown as a hint instead, so that a numeric answer
such as a pain score of "1" is never read as a choice. The last options are remembered per
sender in this process: the Rasa server runs as one process.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint

#: The payloads of the numbered options last sent to each sender.
LAST_OPTIONS: dict[str, list[str]] = {}
CHOICE = re.compile(r"^\s*(\d{1,2})\s*[.)]?\s*$")


def numbered(text: str, buttons: list[dict[str, Any]]) -> str:
    """The message with its buttons as text: numbered when there is a choice to make."""
    titles = [str(b.get("title") or b.get("payload")) for b in buttons]
    if len(titles) == 1:
        return f'{text}\n(Or reply "{titles[0]}".)'
    options = "\n".join(f"{i}. {title}" for i, title in enumerate(titles, start=1))
    return f"{text}\n{options}\nReply with a number, or type your answer."


def remember(recipient_id: str, buttons: list[dict[str, Any]]) -> None:
    if len(buttons) > 1:
        LAST_OPTIONS[recipient_id] = [str(b.get("payload") or b.get("title")) for b in buttons]
    else:
        LAST_OPTIONS.pop(recipient_id, None)


def chosen(sender_id: str, text: str | None) -> str | None:
    """The payload a reply like "2" picks from the options last sent, if it picks one."""
    match = CHOICE.match(text or "")
    options = LAST_OPTIONS.get(sender_id) or []
    if not match or not 1 <= int(match.group(1)) <= len(options):
        return None
    return options[int(match.group(1)) - 1]


class NumberedTwilioOutput(TwilioOutput):
    @classmethod
    def name(cls) -> str:
        return "twilio"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        LAST_OPTIONS.pop(recipient_id, None)  # a plain message ends the previous choice
        await super().send_text_message(recipient_id, text, **kwargs)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await TwilioOutput.send_text_message(self, recipient_id, numbered(text, buttons))
        remember(recipient_id, buttons)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)


class NumberedTwilioInput(TwilioInput):
    """Rasa's Twilio input (same /webhooks/twilio/webhook) with numbered choices."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_choices(message: UserMessage) -> Any:
            payload = chosen(message.sender_id, message.text)
            if payload:
                message.text = payload
            return await on_new_message(message)

        return super().blueprint(with_choices)

    def get_output_channel(self) -> OutputChannel:
        return NumberedTwilioOutput(self.account_sid, self.auth_token, self.twilio_number)
