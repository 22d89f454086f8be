"""Twilio (SMS and WhatsApp): every request signed, buttons as numbered options.

Rasa's own Twilio connector verifies no signature, so anyone who finds the webhook URL can
talk in a patient's name. This one refuses (403) a request whose `X-Twilio-Signature` does not
check out with Twilio's own `RequestValidator` over the URL Twilio called and the POST
parameters. That URL is the public one: `TWILIO_WEBHOOK_URL` when set (exactly as entered in
the Twilio console), else rebuilt from `X-Forwarded-Proto`/`X-Forwarded-Host` (a reverse
proxy's) or the request itself. A message Twilio sends again (same `MessageSid`, after a
timeout) is answered once. Replies go to the API at `TWILIO_API_URL` (default
https://api.twilio.com) from a worker thread, since the Twilio client is synchronous, in
pieces of at most 1600 characters (Twilio's limit for a message body, SMS and WhatsApp
alike) cut between words, one message per piece, in order.

Rasa's own Twilio connector sends each button as a separate message showing its raw payload
("1: Yes (/affirm)"). SMS and WhatsApp have no buttons, so this one sends one message with
numbered choices and reads a reply of just that number as the choice, the way a person
expects. A single button (usually "Skip") is shown as a hint instead, so that a numeric answer
such as a pain score of "1" is never read as a choice. The last options are remembered per
sender in this process: the Rasa server runs as one process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request, RequestParameters
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from addons.channels.common import SeenEvents, split_text

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.twilio.com"
BODY_LIMIT = 1600  # characters in one message body (Twilio's limit, SMS and WhatsApp)
SEND_TIMEOUT = 20.0  # seconds for one API call
#: "Received, nothing to say in this response": the replies go through the API.
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

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


def public_url(request: Request) -> str:
    """The URL Twilio called, as Twilio saw it: what its signature covers."""
    configured = os.environ.get("TWILIO_WEBHOOK_URL")
    if configured:
        return configured
    proto = _first(request.headers.get("X-Forwarded-Proto")) or request.scheme
    host = _first(request.headers.get("X-Forwarded-Host")) or request.headers.get("Host", "")
    query = f"?{request.query_string}" if request.query_string else ""
    return f"{proto}://{host}{request.path}{query}"


def form_of(request: Request) -> RequestParameters:
    """The POST parameters with the empty ones kept (Sanic's `request.form` drops them, but
    Twilio signs them: an SMS comes with ToCity="" and the like)."""
    body = request.body.decode("utf-8", errors="replace")
    return RequestParameters(parse_qs(body, keep_blank_values=True))


def _first(header: str | None) -> str:
    """The first value of a header a chain of proxies may have appended to."""
    return (header or "").split(",")[0].strip()


class NumberedTwilioOutput(TwilioOutput):
    """Replies in pieces within the body limit, buttons as numbered options, sent through
    the API at `TWILIO_API_URL` off the event loop."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(
        self, account_sid: str | None, auth_token: str | None, twilio_number: str | None
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        self.api.base_url = (os.environ.get("TWILIO_API_URL") or DEFAULT_API_URL).rstrip("/")

    async def _send_message(self, message_data: dict[str, Any]) -> Any:
        """One message through the API in a worker thread; a failure is logged, not raised."""
        try:
            return await asyncio.to_thread(self.messages.create, **message_data)
        except Exception as error:  # TwilioRestException, or the network
            logger.error("Twilio: sending to %s failed: %r", message_data.get("to"), error)
            return None

    def sender_for(self, recipient_id: str) -> str | None:
        """Our number as the recipient's channel spells it ("whatsapp:+1..." on WhatsApp)."""
        number = (self.twilio_number or "").removeprefix("whatsapp:")
        return f"whatsapp:{number}" if recipient_id.startswith("whatsapp:") else number or None

    async def _send_pieces(self, recipient_id: str, text: str) -> None:
        sender = self.sender_for(recipient_id)
        for piece in split_text(text, BODY_LIMIT):
            await self._send_message({"to": recipient_id, "from_": sender, "body": piece})

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        LAST_OPTIONS.pop(recipient_id, None)  # a plain message ends the previous choice
        await self._send_pieces(recipient_id, text)

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self._send_pieces(recipient_id, numbered(text, buttons))
        remember(recipient_id, buttons)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)


class NumberedTwilioInput(TwilioInput):
    """Rasa's Twilio input (same /webhooks/twilio/webhook), signed, with numbered choices."""

    @classmethod
    def name(cls) -> str:
        return "twilio"

    def __init__(
        self,
        account_sid: str | None,
        auth_token: str | None,
        twilio_number: str | None,
        debug_mode: bool = True,
    ) -> None:
        super().__init__(account_sid, auth_token, twilio_number, debug_mode)
        self.seen = SeenEvents()  # Twilio sends a message again when the webhook timed out

    def signed(self, request: Request) -> bool:
        """Twilio's signature over the public URL and the POST parameters checks out."""
        signature = request.headers.get("X-Twilio-Signature")
        if not signature or not self.auth_token:
            return False
        validator = RequestValidator(self.auth_token)
        return bool(validator.validate(public_url(request), form_of(request), signature))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("signed_twilio_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.signed(request):
                logger.warning("Twilio: refused a request without a valid signature")
                return response.text("invalid signature", status=403)
            form = form_of(request)
            sid = form.get("MessageSid") or form.get("SmsSid")
            if sid and not self.seen.first_time(f"twilio:{sid}"):
                logger.info("Twilio: message %s was already answered", sid)
            else:
                await self.answer(form, on_new_message, self.get_metadata(request))
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return webhook

    async def answer(
        self,
        form: RequestParameters,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        metadata: dict[str, Any] | None,
    ) -> None:
        """Pass the message on, a number that picks an option read as that option."""
        sender, text = form.get("From"), form.get("Body")
        latitude, longitude = form.get("Latitude"), form.get("Longitude")
        if latitude and longitude:  # a WhatsApp location
            text = f"/locationData{{'Latitude': {latitude},'Longitude': {longitude}}}"
        if not sender or not text:
            return  # media without text, or not a message
        text = chosen(sender, text) or text.replace("¡", "@")  # carriers garble @ as ¡
        # the reply comes from the number the person wrote to (signed by Twilio)
        number = form.get("To") or self.twilio_number
        message = UserMessage(
            text,
            NumberedTwilioOutput(self.account_sid, self.auth_token, number),
            sender,
            input_channel=self.name(),
            metadata=metadata,
        )
        try:
            await on_new_message(message)
        except Exception:
            logger.exception("Twilio: the message from %s could not be answered", sender)

    def get_output_channel(self) -> OutputChannel:
        return NumberedTwilioOutput(self.account_sid, self.auth_token, self.twilio_number)
