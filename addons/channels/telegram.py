"""Telegram, with every update proven to come from Telegram and replies shaped for it.

Rasa's connector registers the webhook without a secret, so anyone who finds the URL can post
fake messages; it also asks Telegram who the bot is on every update, re-registers the webhook
(without a secret) from a public GET route, and cuts answers only at blank lines. Here:

- the webhook is registered as the server starts, with `secret_token` (aiogram 2.15's
  `set_webhook` lacks it, so the Bot API method is called directly), and an update whose
  `X-Telegram-Bot-Api-Secret-Token` header is missing or wrong gets 403 before it reaches a
  conversation; there is no route that registers the webhook;
- an update Telegram delivers again (same `update_id`, after a failed or slow answer) is
  answered once;
- buttons are an inline keyboard, and tapping one (a `callback_query`) continues the
  conversation; Telegram allows 64 bytes of callback data, so a longer payload travels as a
  short token remembered here (after a restart the button's title is read instead);
- an answer longer than a message (4096 characters) is sent in pieces cut between words.
  A red-flag reply is sent as it is, number first: Telegram has no call button, and the
  person's phone offers to dial the plain number.

The API's base URL is `TELEGRAM_API_URL` (a local stand-in in the tests), else Telegram's.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.shared.constants import INTENT_MESSAGE_PREFIX
from rasa.shared.core.constants import USER_INTENT_RESTART
from rasa.shared.exceptions import InvalidConfigException, RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from addons.channels.common import SeenEvents, split_text

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.telegram.org"
MESSAGE_LIMIT = 4096  # characters in one Telegram message
CALLBACK_LIMIT = 64  # bytes of callback_data
TOKEN_PREFIX = "~"  # callback data standing for a longer payload
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_FORMAT = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts
UPDATES = ["message", "edited_message", "callback_query"]


def api_server() -> TelegramAPIServer:
    return TelegramAPIServer.from_base(os.environ.get("TELEGRAM_API_URL") or DEFAULT_API_URL)


async def close_session(bot: Bot) -> None:
    """Close the bot's HTTP session (aiogram 2's `close()` is deprecated: it becomes the
    Bot API's "close" method in 3.0)."""
    if bot._session is not None and not bot._session.closed:
        await bot._session.close()


def keyboard_rows(titles: list[str]) -> list[list[int]]:
    """Button indexes by row: a few short ones side by side, otherwise one a row, so that
    no title is shortened on a phone."""
    if len(titles) <= 3 and sum(len(t) for t in titles) <= 24:
        return [list(range(len(titles)))]
    return [[i] for i in range(len(titles))]


class SignedTelegramOutput(TelegramOutput):
    """Sends through `TELEGRAM_API_URL`; long texts in pieces, buttons as inline keyboards."""

    def __init__(self, access_token: str | None, size: int = 5000) -> None:
        Bot.__init__(self, access_token, server=api_server())
        self._payloads: OrderedDict[str, str] = OrderedDict()
        self._size = size

    @classmethod
    def name(cls) -> str:
        return "telegram"

    def callback_data(self, payload: str) -> str:
        """The payload itself when it fits in 64 bytes, else a short token for it."""
        if len(payload.encode("utf-8")) <= CALLBACK_LIMIT and not payload.startswith(TOKEN_PREFIX):
            return payload
        token = TOKEN_PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
        self._payloads[token] = payload
        self._payloads.move_to_end(token)
        while len(self._payloads) > self._size:
            self._payloads.popitem(last=False)
        return token

    def pressed(self, query: CallbackQuery) -> str:
        """What a tapped button says: its payload, or its title if the token is forgotten."""
        data = query.data or ""
        if not data.startswith(TOKEN_PREFIX):
            return data
        if data in self._payloads:
            return self._payloads[data]
        markup = query.message.reply_markup if query.message else None
        for row in (markup.inline_keyboard if markup else None) or []:
            for button in row:
                if button.callback_data == data:
                    return str(button.text)
        return data

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for piece in split_text(text, MESSAGE_LIMIT):
            await self.send_message(recipient_id, piece)

    async def send_text_with_buttons(
        self,
        recipient_id: str,
        text: str,
        buttons: list[dict[str, Any]],
        button_type: str | None = "inline",
        **kwargs: Any,
    ) -> None:
        """An inline keyboard under the last piece of the text, whatever `button_type` says
        (a reply keyboard would stay on screen after the choice)."""
        *before, last = split_text(text, MESSAGE_LIMIT) or [""]
        for piece in before:
            await self.send_message(recipient_id, piece)
        titles = [str(b.get("title") or b.get("payload")) for b in buttons]
        markup = InlineKeyboardMarkup()
        for row in keyboard_rows(titles):
            markup.row(
                *(
                    InlineKeyboardButton(
                        titles[i], callback_data=self.callback_data(str(buttons[i]["payload"]))
                    )
                    for i in row
                )
            )
        await self.send_message(recipient_id, last, reply_markup=markup)

    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)


class SignedTelegramInput(TelegramInput):
    """Rasa's Telegram input at the same path, /webhooks/telegram/webhook, authenticated."""

    @classmethod
    def name(cls) -> str:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None
        return cls(
            credentials.get("access_token"),
            credentials.get("verify"),
            credentials.get("webhook_url"),
            str(credentials.get("secret_token") or ""),
        )

    def __init__(
        self,
        access_token: str | None,
        verify: str | None,
        webhook_url: str | None,
        secret_token: str,
    ) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode=False)
        if not SECRET_FORMAT.match(secret_token):
            raise InvalidConfigException(
                "Telegram needs a secret_token (TELEGRAM_SECRET_TOKEN) of 1-256 letters, "
                "digits, _ or -: without it anyone could post messages to the webhook."
            )
        self.secret_token = secret_token
        self.seen = SeenEvents()
        self.out: SignedTelegramOutput | None = None

    def authentic(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER) or ""
        return hmac.compare_digest(given.encode("utf-8"), self.secret_token.encode("utf-8"))

    async def register_webhook(self) -> None:
        """Tell Telegram where to post updates and the secret to send with them."""
        bot = Bot(self.access_token, server=api_server())
        try:
            data = {
                "url": self.webhook_url,
                "secret_token": self.secret_token,
                "allowed_updates": json.dumps(UPDATES),
            }
            await bot.request("setWebhook", data)
            me = await bot.get_me()
            if self.verify and me.username != self.verify:
                logger.warning(
                    f"TELEGRAM_BOT_NAME is {self.verify!r} but the token is {me.username!r}'s."
                )
        except (TelegramAPIError, aiohttp.ClientError) as error:
            raise RasaException(f"Failed to set the Telegram webhook: {error}") from error
        finally:
            await close_session(bot)

    def get_output_channel(self) -> SignedTelegramOutput:
        """One sender for the server (no network call here: the webhook is set at start)."""
        if self.out is None:
            self.out = SignedTelegramOutput(self.access_token)
        return self.out

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        telegram_webhook = Blueprint("telegram_webhook", __name__)
        out = self.get_output_channel()

        @telegram_webhook.listener("before_server_start")
        async def register(*_: Any) -> None:
            await self.register_webhook()

        @telegram_webhook.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await close_session(out)

        @telegram_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @telegram_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.authentic(request):
                logger.warning("Refused a Telegram update without the right secret token.")
                return response.text("forbidden", status=403)
            body = request.json
            if not isinstance(body, dict):
                return response.text("not an update", status=400)
            update_id = body.get("update_id")
            if not self.seen.first_time(None if update_id is None else f"telegram:{update_id}"):
                return response.text("success")  # delivered again: answered already
            update = Update(**body)
            text, chat_id = await self.said(update, out)
            if text is None or chat_id is None:
                return response.text("success")
            try:
                for said in self.turns(text):
                    await on_new_message(UserMessage(said, out, chat_id, input_channel=self.name()))
            except Exception as error:  # the update must not come back: it was seen
                logger.exception(f"Telegram update {update_id} failed: {error}")
            return response.text("success")

        return telegram_webhook

    async def said(
        self, update: Update, out: SignedTelegramOutput
    ) -> tuple[str | None, str | None]:
        """What the person said or tapped, and in which chat (None for other updates)."""
        if self._is_button(update):
            query = update.callback_query
            try:  # stops the button's spinner on the person's phone
                await out.answer_callback_query(query.id)
            except (TelegramAPIError, aiohttp.ClientError) as error:
                logger.warning(f"answerCallbackQuery failed: {error}")
            chat = query.message.chat.id if query.message else None
            return out.pressed(query), None if chat is None else str(chat)
        message = update.edited_message if self._is_edited_message(update) else update.message
        if message is None:
            return None, None
        if self._is_user_message(message):
            text = message.text.replace("/bot", "")
        elif self._is_location(message):
            text = f'{{"lng":{message.location.longitude}, "lat":{message.location.latitude}}}'
        else:
            return None, None
        return text, str(message.chat.id)

    @staticmethod
    def turns(text: str) -> list[str]:
        """/restart also greets again, as Rasa's connector does."""
        if text == INTENT_MESSAGE_PREFIX + USER_INTENT_RESTART:
            return [text, "/start"]
        return [text]
