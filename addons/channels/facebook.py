"""Facebook Messenger with every webhook request signed, and replies shaped for Messenger.

Rasa's own connector checks only the old `X-Hub-Signature` (SHA-1), answers a forged request
with 200, handles only the first event of a batch, re-answers the events Meta re-delivers, and
calls the Send API synchronously inside the event loop (every other conversation waits).
This one:

- refuses (403) a POST whose `X-Hub-Signature-256` is not "sha256=" + the HMAC-SHA256 of the
  raw body with the app secret; the GET verify-token handshake keeps working;
- answers each event (message `mid`) once, all events of a batch, in order;
- sends through the Graph API at `FACEBOOK_GRAPH_URL` (default https://graph.facebook.com,
  unversioned: the app's default API version) in a worker thread, with a timeout;
- shows buttons as quick replies (up to 13, titles of at most 20 characters), splits long
  text within Messenger's 2000 characters without cutting a word, and puts a red-flag
  reply's number on a call button when it is a full international number (a call button
  cannot hold a short code such as 911: that stays plain text, leading the message).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fbmessenger import MessengerClient
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.facebook import FacebookInput, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from addons.channels.common import SeenEvents, red_flag_call, split_text

logger = logging.getLogger(__name__)

DEFAULT_GRAPH_URL = "https://graph.facebook.com"
TEXT_LIMIT = 2000  # characters in a text message
TEMPLATE_TEXT_LIMIT = 640  # characters in a button template's text
TITLE_LIMIT = 20  # characters in a quick reply's or a button's title
QUICK_REPLIES = 13  # at most, per message
SEND_TIMEOUT = 20.0  # seconds for one Send API call
#: A number a call button can dial: "+", the country code and the number (E.164).
INTERNATIONAL = re.compile(r"^\+[1-9]\d{6,14}$")


def graph_url() -> str:
    return (os.environ.get("FACEBOOK_GRAPH_URL") or DEFAULT_GRAPH_URL).rstrip("/")


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """True when `header` is "sha256=" + the HMAC-SHA256 of `body` with the app secret."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header[len("sha256=") :].strip().lower(), expected)


def short_title(title: str) -> str:
    """A button title within Messenger's 20 characters: cut at a word when that keeps most
    of it, else at the limit, with "…" (the payload, not the title, is what Rasa reads)."""
    title = " ".join(title.split())
    if len(title) > TITLE_LIMIT:
        title = title.rstrip("?!.")  # "What causes sciatica?" fits without its "?"
    if len(title) <= TITLE_LIMIT:
        return title
    head = title[: TITLE_LIMIT - 1]
    words = head.rsplit(" ", 1)[0] if title[TITLE_LIMIT - 1] != " " else head
    if len(words) >= TITLE_LIMIT * 2 // 3:  # a word boundary, unless it loses too much
        head = words
    return head.rstrip(" ,;:-") + "…"


def dialable(number: str | None) -> str | None:
    """The number in the form a call button takes (+ country code ...), if it has one."""
    compact = re.sub(r"[\s()-]", "", number or "")
    return compact if INTERNATIONAL.match(compact) else None


def quick_replies(buttons: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa buttons as Messenger quick replies (the payload is what Rasa reads back)."""
    return [
        {
            "content_type": "text",
            "title": short_title(str(b.get("title") or b.get("payload"))),
            "payload": str(b.get("payload") or b.get("title")),
        }
        for b in list(buttons)[:QUICK_REPLIES]
    ]


class SignedMessengerBot(MessengerBot):
    """Rasa's Messenger output, sending off the event loop and within Messenger's limits."""

    @classmethod
    def name(cls) -> str:
        return "facebook"

    async def _post(self, recipient_id: str, message: dict[str, Any]) -> None:
        """One Send API call in a worker thread; a failure is logged, not raised."""
        try:
            answer = await asyncio.to_thread(
                self.messenger_client.send, message, recipient_id, "RESPONSE", timeout=SEND_TIMEOUT
            )
        except Exception:  # the network, or an answer that is not JSON
            logger.exception("Messenger: sending to %s failed", recipient_id)
            return
        if isinstance(answer, dict) and answer.get("error"):
            logger.error("Messenger refused a message: %s", answer["error"])

    async def send_action(self, recipient_id: str, sender_action: str) -> None:
        try:
            await asyncio.to_thread(
                self.messenger_client.send_action,
                sender_action,
                recipient_id,
                timeout=SEND_TIMEOUT,
            )
        except Exception:
            logger.warning("Messenger: %s to %s failed", sender_action, recipient_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """The text in pieces within the limit; a red-flag reply's first piece carries a
        call button when its number can be dialled from one."""
        number = dialable(red_flag_call(text))
        if number:
            first, *rest = split_text(text, TEMPLATE_TEXT_LIMIT)
            button = {"type": "phone_number", "title": short_title(f"Call {number}")}
            await self._post(recipient_id, _template(first, [{**button, "payload": number}]))
            text = "\n\n".join(rest)
        for piece in split_text(text, TEXT_LIMIT):
            await self._post(recipient_id, {"text": piece})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Links as a button template (at most 3); choices as quick replies, which stay
        above the keyboard until tapped and come back as the button's payload."""
        if any(b.get("url") for b in buttons):
            links = [
                {"type": "web_url", "title": short_title(str(b.get("title"))), "url": b["url"]}
                for b in buttons
                if b.get("url")
            ][:3]
            *before, last = split_text(text, TEMPLATE_TEXT_LIMIT) or [""]
            for piece in before:
                await self._post(recipient_id, {"text": piece})
            await self._post(recipient_id, _template(last, links))
            return
        *before, last = split_text(text, TEXT_LIMIT) or ["…"]
        if before:
            await self.send_text_message(recipient_id, "\n\n".join(before))
        await self._post(recipient_id, {"text": last, "quick_replies": quick_replies(buttons)})

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        attachment = {"type": "image", "payload": {"url": image, "is_reusable": True}}
        await self._post(recipient_id, {"attachment": attachment})

    async def send_elements(
        self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any
    ) -> None:
        elements = list(elements)
        for element in elements:
            self._add_postback_info(element.get("buttons") or [])
        payload = {"template_type": "generic", "elements": elements}
        await self._post(recipient_id, {"attachment": {"type": "template", "payload": payload}})

    async def send_custom_json(
        self, recipient_id: str, json_message: list | dict[str, Any], **kwargs: Any
    ) -> None:
        if isinstance(json_message, dict):
            recipient_id = json_message.pop("sender", {}).get("id", recipient_id)
            await self._post(recipient_id, json_message)
        else:
            for message in json_message:
                await self.send_custom_json(recipient_id, message)


def _template(text: str, buttons: list[dict[str, Any]]) -> dict[str, Any]:
    payload = {"template_type": "button", "text": text, "buttons": buttons}
    return {"attachment": {"type": "template", "payload": payload}}


def event_text(event: dict[str, Any]) -> str | None:
    """What the person said: a quick reply's or postback's payload, else the typed text."""
    message = event.get("message") or {}
    if message.get("is_echo"):
        return None  # the page's own message
    quick = (message.get("quick_reply") or {}).get("payload")
    postback = (event.get("postback") or {}).get("payload")
    return quick or postback or message.get("text")


def event_id(event: dict[str, Any]) -> str | None:
    """The id Meta keeps when it re-delivers an event."""
    mid = (event.get("message") or {}).get("mid") or (event.get("postback") or {}).get("mid")
    if mid:
        return str(mid)
    sender, stamp = (event.get("sender") or {}).get("id"), event.get("timestamp")
    return f"{sender}:{stamp}" if sender and stamp else None


class SignedFacebookInput(FacebookInput):
    """Rasa's Messenger input at the same /webhooks/facebook/webhook, every POST signed."""

    @classmethod
    def name(cls) -> str:
        return "facebook"

    def __init__(self, fb_verify: str, fb_secret: str, fb_access_token: str) -> None:
        super().__init__(fb_verify, fb_secret, fb_access_token)
        self.seen = SeenEvents()  # Meta re-delivers the events it thinks were lost

    def messenger_client(self) -> MessengerClient:
        """A Send API client for `FACEBOOK_GRAPH_URL`, with the appsecret_proof Meta can
        require ("Require App Secret" in the app's settings)."""
        client = MessengerClient(self.fb_access_token, app_secret=self.fb_secret)
        client.graph_url = graph_url()
        return client

    def get_output_channel(self) -> OutputChannel:
        return SignedMessengerBot(self.messenger_client())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("signed_facebook_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            """Meta's subscription handshake: echo the challenge for our verify token."""
            token = request.args.get("hub.verify_token") or ""
            if self.fb_verify and hmac.compare_digest(token, self.fb_verify):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("Messenger: wrong verify token in the webhook handshake")
            return response.text("wrong verify token", status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            header = request.headers.get("X-Hub-Signature-256")
            if not signature_ok(self.fb_secret, request.body, header):
                logger.warning("Messenger: refused a request without a valid signature")
                return response.text("invalid signature", status=403)
            payload = request.json if isinstance(request.json, dict) else {}
            metadata = self.get_metadata(request)
            for entry in payload.get("entry") or []:
                for event in entry.get("messaging") or []:
                    await self.answer(event, on_new_message, metadata)
            return response.text("EVENT_RECEIVED")

        return webhook

    async def answer(
        self,
        event: dict[str, Any],
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        metadata: dict[str, Any] | None,
    ) -> None:
        """Pass one event on to the assistant, unless it is a repeat or not a message."""
        text, sender = event_text(event), (event.get("sender") or {}).get("id")
        if not text or not sender:
            return  # deliveries, reads, echoes, attachments without text
        key = event_id(event)
        if key and not self.seen.first_time(f"facebook:{key}"):
            logger.info("Messenger: event %s was already answered", key)
            return
        out = SignedMessengerBot(self.messenger_client())
        await out.send_action(sender, "mark_seen")
        await out.send_action(sender, "typing_on")
        try:
            await on_new_message(
                UserMessage(text, out, sender, input_channel=self.name(), metadata=metadata)
            )
        except Exception:
            logger.exception("Messenger: the message from %s could not be answered", sender)
