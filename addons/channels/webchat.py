"""The website widget's channel: Rasa's socket.io channel, with a red-flag reply marked so
that rasa-webchat shows it as urgent and its number as a tel: link.

rasa-webchat 1.0.1 reads a bot message's `metadata.customCss` (`{"style": "class", "css":
...}`) as an extra class on that message, and renders the text as Markdown, where a
`[911](tel:911)` link is allowed. Rasa 3.6's own socket.io output sends only the text, so
this output adds both to a reply that leads with a number to call (`link_red_flag_call`, the
same test the other connectors use). Everything else, the channel's name ("socketio") included,
is Rasa's.

The class, `rw-urgent`, is styled in web/static/widget.css: a thick border and an "Urgent"
label, so the reply stands out without relying on its colour.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from addons.channels.common import link_red_flag_call

#: The class rasa-webchat adds to a red-flag reply (web/static/widget.css styles it).
URGENT_CLASS = "rw-urgent"


def urgent_markdown(text: str) -> tuple[str, dict[str, Any] | None]:
    """`text` with a leading red-flag number as a Markdown tel: link, and the widget metadata
    that marks it urgent; other text unchanged, with no metadata."""
    linked = link_red_flag_call(text, lambda number, dial: f"[{number}](tel:{dial})")
    if linked is None:
        return text, None
    return linked, {"customCss": {"style": "class", "css": URGENT_CLASS}}


def widget_message(text: str, **extra: Any) -> dict[str, Any]:
    """One bot message as rasa-webchat reads it (`text`, optional `quick_replies`, and
    `metadata` for a red-flag reply)."""
    linked, metadata = urgent_markdown(text)
    message: dict[str, Any] = {"text": linked, **extra}
    if metadata:
        message["metadata"] = metadata
    return message


class WebchatOutput(SocketIOOutput):
    """Rasa's socket.io output, with red-flag replies marked for the widget."""

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in text.strip().split("\n\n"):
            await self._send_message(recipient_id, widget_message(part))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        parts = text.strip().split("\n\n") or [text]
        replies = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons
        ]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            await self._send_message(
                recipient_id, widget_message(part, quick_replies=replies if last else [])
            )


class WebchatInput(SocketIOInput):
    """Rasa's socket.io input (same name, settings and events), answering through
    `WebchatOutput`."""

    def get_output_channel(self) -> OutputChannel | None:
        channel = super().get_output_channel()
        if not isinstance(channel, SocketIOOutput):
            return channel
        return WebchatOutput(channel.sio, channel.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def through_webchat(message: UserMessage) -> Any:
            output = message.output_channel
            if isinstance(output, SocketIOOutput) and not isinstance(output, WebchatOutput):
                message.output_channel = WebchatOutput(output.sio, output.bot_message_evt)
            return await on_new_message(message)

        return super().blueprint(through_webchat)
