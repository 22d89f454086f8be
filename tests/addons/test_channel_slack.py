"""The Slack connector without a model: what its output posts to a loopback stand-in for the
Web API (real slack_sdk requests), mrkdwn escaping and the red-flag tel: link."""

from __future__ import annotations

import asyncio

import pytest

from addons.channels.slack import TEXT_LIMIT, SignedSlackBot, button_blocks, mrkdwn
from tests.channels.platform import PlatformStub

TOKEN = "xoxb-test-slack-token"


@pytest.fixture
def api(stub: PlatformStub, monkeypatch) -> PlatformStub:
    monkeypatch.setenv("SLACK_API_URL", f"{stub.url}/slack/api/")
    return stub


def posted(stub: PlatformStub, mark: int) -> list[dict]:
    calls = stub.since(mark, "/slack/api/chat.postMessage")
    assert all(c.headers["authorization"] == f"Bearer {TOKEN}" for c in calls)
    return [c.json() for c in calls]


def test_a_long_answer_is_posted_in_order_in_pieces_that_fit(api):
    text = "\n".join(" ".join(f"line{i}word{j} of advice." for j in range(40)) for i in range(30))
    assert len(text) > 3 * TEXT_LIMIT
    mark = len(api.calls)
    asyncio.run(SignedSlackBot(TOKEN, "D1").send_text_message("U1", text))
    messages = posted(api, mark)
    assert len(messages) > 3 and all(len(m["text"]) <= TEXT_LIMIT for m in messages)
    assert " ".join(m["text"] for m in messages).split() == text.split()
    assert {m["channel"] for m in messages} == {"D1"}


def test_buttons_are_block_kit_actions_under_the_text(api):
    buttons = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]
    mark = len(api.calls)
    asyncio.run(SignedSlackBot(TOKEN, "D1").send_text_with_buttons("U1", "Book it?", buttons))
    [message] = posted(api, mark)
    assert message["text"] == "Book it?"
    section, actions = message["blocks"]
    assert section == {"type": "section", "text": {"type": "mrkdwn", "text": "Book it?"}}
    assert actions["type"] == "actions"
    assert [(e["type"], e["text"]["text"], e["value"]) for e in actions["elements"]] == [
        ("button", "Yes", "/affirm"),
        ("button", "No", "/deny"),
    ]


def test_more_than_five_buttons_are_kept_25_to_a_block():
    buttons = [{"title": f"Topic {i}", "payload": f"/t{i}"} for i in range(30)]
    blocks = button_blocks(buttons)
    assert [len(b["elements"]) for b in blocks] == [25, 5]
    ids = [e["action_id"] for b in blocks for e in b["elements"]]
    assert len(set(ids)) == 30


def test_text_is_escaped_and_a_red_flag_number_is_a_tel_link():
    assert mrkdwn("Pain <5 & >2") == "Pain &lt;5 &amp; &gt;2"
    warning = "Call 911 now, or go to the nearest emergency department: <urgent>."
    assert mrkdwn(warning) == (
        "Call <tel:911|911> now, or go to the nearest emergency department: &lt;urgent&gt;."
    )
    assert mrkdwn("Call +44 20 7946 0000 now.") == (
        "Call <tel:+442079460000|+44 20 7946 0000> now."
    )
    assert mrkdwn("If it gets worse, call 911 now.") == "If it gets worse, call 911 now."


def test_a_red_flag_reply_is_posted_first_with_the_link(api):
    mark = len(api.calls)
    text = "Call 911 now, or go to the nearest emergency department.\n\nPlease don't wait."
    asyncio.run(SignedSlackBot(TOKEN, "D1").send_text_message("U1", text))
    [message] = posted(api, mark)
    assert message["text"].startswith("Call <tel:911|911> now")


def test_a_persons_text_is_unescaped_and_the_bots_mention_dropped():
    from addons.channels.slack import SignedSlackInput

    said = SignedSlackInput._sanitize_user_message("<@U0BOT> pain &lt; 5 &amp; stiff", ["U0BOT"])
    assert said == "pain < 5 & stiff"


def test_it_will_not_run_without_a_signing_secret():
    from rasa.shared.exceptions import InvalidConfigException

    from addons.channels.slack import SignedSlackInput

    with pytest.raises(InvalidConfigException, match="signing secret"):
        SignedSlackInput.from_credentials({"slack_token": TOKEN, "slack_signing_secret": ""})
