"""One assistant as `make run` starts it, with every messaging platform turned on through its
environment variables, and the platforms' APIs stood in for on loopback (platform.py): tests
post each platform's own requests to the Rasa server and read what it sent back.

The secrets below are test values; each connector reads its API's base URL from the
environment (`*_API_URL`, `FACEBOOK_GRAPH_URL`), which a real deployment leaves unset.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.platform import PlatformStub
from tests.stack import Stack

TELEGRAM = {
    "TELEGRAM_ACCESS_TOKEN": "123456789:TEST-telegram-token",
    "TELEGRAM_BOT_NAME": "clinic_test_bot",
    "TELEGRAM_WEBHOOK_URL": "https://clinic.example/webhooks/telegram/webhook",
    "TELEGRAM_SECRET_TOKEN": "test-telegram-secret-token",
}
FACEBOOK = {
    "FACEBOOK_VERIFY_TOKEN": "test-verify-token",
    "FACEBOOK_APP_SECRET": "test-facebook-app-secret",
    "FACEBOOK_PAGE_ACCESS_TOKEN": "TEST-page-access-token",
}
SLACK = {
    "SLACK_BOT_TOKEN": "xoxb-test-slack-token",
    "SLACK_SIGNING_SECRET": "test-slack-signing-secret",
}
TWILIO = {
    "TWILIO_ACCOUNT_SID": "AC" + "0123456789abcdef" * 2,
    "TWILIO_AUTH_TOKEN": "test-twilio-auth-token",
    "TWILIO_NUMBER": "+15550100199",
}


@pytest.fixture(scope="session")
def platform() -> Iterator[PlatformStub]:
    stub = PlatformStub()
    yield stub
    stub.close()


@pytest.fixture(scope="session")
def channels(platform: PlatformStub, tmp_path_factory) -> Iterator[Stack]:
    """The assistant with all four platforms on, their APIs pointed at `platform`."""
    apis = {
        "TELEGRAM_API_URL": f"{platform.url}/telegram",
        "FACEBOOK_GRAPH_URL": f"{platform.url}/facebook",
        "SLACK_API_URL": f"{platform.url}/slack/api/",
        "TWILIO_API_URL": f"{platform.url}/twilio",
    }
    stack = Stack(
        tmp_path_factory.mktemp("channels"), env={**TELEGRAM, **FACEBOOK, **SLACK, **TWILIO, **apis}
    )
    stack.start()
    yield stack
    stack.stop()
