"""Slack, with every request's signature checked and replies shaped for it.

Rasa's connector checks the signing secret but answers a bad signature with 400, answers the
`url_verification` challenge with a bare JSON string, answers an event Slack resends (after a
slow or failed answer) a second time, drops all the buttons of a message that has more than
five, and posts to slack.com only. Here:

- every request to the webhook (events and interactive payloads alike) needs a valid
  `X-Slack-Signature`, v0 HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing secret,
  and an `X-Slack-Request-Timestamp` within 5 minutes; anything else gets 403 before it
  reaches a conversation;
- `url_verification` is answered `{"challenge": ...}`;
- an event delivered again (same `event_id`, `X-Slack-Retry-Num` set) or a button tap
  delivered again (same `trigger_id`) is answered once;
- buttons are Block Kit: a section with the text and `actions` blocks of buttons (up to 25
  each); tapping one (a `block_actions` payload) continues the conversation;
- texts are mrkdwn, escaped, in pieces of at most 3000 characters (a section block's limit,
  kept for plain messages too: Slack advises against longer ones), cut between words; a
  person's text arrives escaped and is unescaped;
- a red-flag reply's leading number is a `<tel:...|...>` link a phone dials on a tap.

The API's base URL is `SLACK_API_URL` (a local stand-in in the tests), else Slack's.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from addons.channels.common import SeenEvents, link_red_flag_call, split_text

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
TEXT_LIMIT = 3000  # characters in a section block; kept for every message
BUTTONS_PER_BLOCK = 25  # elements in one actions block
BUTTON_TITLE_LIMIT = 75  # characters of a button's text


def api_url() -> str:
    return os.environ.get("SLACK_API_URL") or DEFAULT_API_URL


def mrkdwn(text: str) -> str:
    """Text as Slack shows it: &, < and > escaped, a red-flag number as a tel: link."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    linked = link_red_flag_call(escaped, lambda number, dial: f"<tel:{dial}|{number}>")
    return escaped if linked is None else linked


def button_blocks(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`actions` blocks of Block Kit buttons, 25 at most in each."""
    elements = [
        {
            "type": "button",
            "action_id": f"choice-{i}",
            "text": {
                "type": "plain_text",
                "text": str(b.get("title") or b.get("payload"))[:BUTTON_TITLE_LIMIT],
            },
            "value": str(b["payload"]),
        }
        for i, b in enumerate(buttons)
    ]
    return [
        {"type": "actions", "elements": elements[i : i + BUTTONS_PER_BLOCK]}
        for i in range(0, len(elements), BUTTONS_PER_BLOCK)
    ]


class SignedSlackBot(SlackBot):
    """Posts through `SLACK_API_URL`: texts in pieces, buttons as Block Kit."""

    def __init__(
        self,
        token: str,
        slack_channel: str | None = None,
        thread_id: str | None = None,
        proxy: str | None = None,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(token, base_url=api_url(), proxy=proxy)

    @classmethod
    def name(cls) -> str:
        return "slack"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        recipient = self.slack_channel or recipient_id
        for piece in split_text(text, TEXT_LIMIT):
            await self._post_message(channel=recipient, text=mrkdwn(piece))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """The text's last piece in a section, the buttons under it."""
        recipient = self.slack_channel or recipient_id
        *before, last = split_text(text, TEXT_LIMIT) or [""]
        for piece in before:
            await self._post_message(channel=recipient, text=mrkdwn(piece))
        blocks: list[dict[str, Any]] = []
        if last:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn(last)}})
        blocks += button_blocks(buttons)
        await self._post_message(channel=recipient, text=mrkdwn(last), blocks=blocks)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)


class SignedSlackInput(SlackInput):
    """Rasa's Slack input at the same path, /webhooks/slack/webhook, answering 403 to any
    request not signed by Slack and answering a resent event once."""

    @classmethod
    def name(cls) -> str:
        return "slack"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen = SeenEvents()

    @staticmethod
    def _sanitize_user_message(text: str, uids_to_remove: list[str] | None) -> str:
        """Rasa's clean-up (mentions of the bot, links), then Slack's escapes undone: a
        person's "pain < 5" arrives as "pain &lt; 5"."""
        cleaned = SlackInput._sanitize_user_message(text, uids_to_remove)
        return cleaned.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def delivery_id(self, request: Request) -> str | None:
        """The id Slack repeats when it delivers the same thing again."""
        if request.headers.get("content-type") == "application/x-www-form-urlencoded":
            try:
                payload = json.loads(request.form.get("payload") or "{}")
            except ValueError:
                return None
            trigger = payload.get("trigger_id") if isinstance(payload, dict) else None
            return f"slack:trigger:{trigger}" if trigger else None
        body = request.json if request.body else None
        event_id = body.get("event_id") if isinstance(body, dict) else None
        return f"slack:event:{event_id}" if event_id else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        slack_webhook = super().blueprint(on_new_message)

        @slack_webhook.middleware("request")
        async def authenticate(request: Request) -> HTTPResponse | None:
            if not request.path.rstrip("/").endswith("/webhook"):
                return None  # the health check
            if not self.is_request_from_slack_authentic(request):
                logger.warning("Refused a Slack request without a valid signature.")
                return response.text("forbidden", status=403)
            if request.headers.get("content-type") == "application/json":
                body = request.json
                if isinstance(body, dict) and body.get("type") == "url_verification":
                    return response.json({"challenge": body.get("challenge")})
            if not self.seen.first_time(self.delivery_id(request)):
                return response.text("", headers={"X-Slack-No-Retry": "1"})
            return None

        return slack_webhook

    def get_output_channel(
        self, channel: str | None = None, thread_id: str | None = None
    ) -> OutputChannel:
        return SignedSlackBot(
            self.slack_token, channel or self.slack_channel, thread_id, self.proxy
        )
