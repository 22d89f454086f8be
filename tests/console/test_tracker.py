"""Conversations read from the tracker store (console/tracker.py), read-only."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from console import tracker
from tests.console.seed import tracker_events

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def seed() -> None:
    tracker_events(
        [
            {"sender": "web-aaa", "type": "action", "at": at(0), "action": "action_listen"},
            {"sender": "web-aaa", "type": "user", "at": at(1), "text": "what causes sciatica?",
             "intent": "ask_causes"},
            {"sender": "web-aaa", "type": "bot", "at": at(2), "text": "Sciatica is ...",
             "buttons": [{"title": "Book a visit", "payload": "/request_appointment"}]},
            {"sender": "sms-+15550100", "type": "user", "at": at(10),
             "text": "I'm Zoë, my knee hurts", "intent": "out_of_scope"},
            {"sender": "sms-+15550100", "type": "user", "at": at(11), "text": "asdfgh",
             "intent": "nlu_fallback"},
            {"sender": "web-bbb", "type": "user", "at": at(20), "text": "100% better_now",
             "intent": "inform"},
        ]
    )  # fmt: skip


def test_no_store_yet_reads_as_empty_and_is_not_created():
    assert tracker.conversations() == [] and tracker.conversations("x") == []
    assert tracker.transcript("web-aaa") is None
    assert tracker.not_understood() == []
    assert not Path(os.environ["TRACKER_DB_PATH"]).exists()


def test_latest_conversations_first_with_counts():
    seed()
    found = tracker.conversations()
    assert [c["conversation_id"] for c in found] == ["web-bbb", "sms-+15550100", "web-aaa"]
    aaa = found[-1]
    assert aaa["user_messages"] == 1 and aaa["started_at"] == at(0)
    assert aaa["last_message_at"] == at(2)


def test_search_by_id_or_by_what_the_user_typed_in_any_case():
    seed()
    ids = lambda q: [c["conversation_id"] for c in tracker.conversations(q)]  # noqa: E731
    assert ids("aaa") == ["web-aaa"]
    assert ids("SCIATICA") == ["web-aaa"]
    assert ids("zoë") == ids("ZOË") == ["sms-+15550100"]  # stored as "Zo\u00eb" by Rasa
    assert ids("Sciatica is") == []  # the bot's words are not the user's
    assert ids("%") == ["web-bbb"]  # a literal percent sign, not a wildcard
    assert ids("_") == ["web-bbb"]
    assert ids("timestamp") == []  # JSON keys do not match
    assert ids("nothing like this") == []


def test_a_transcript_has_the_user_and_bot_texts_in_order():
    seed()
    said = tracker.transcript("web-aaa")
    assert [(t["speaker"], t["text"]) for t in said] == [
        ("user", "what causes sciatica?"),
        ("bot", "Sciatica is ... [Book a visit]"),
    ]
    assert said[0]["at"] == at(1) and said[0]["intent"] == "ask_causes"
    assert tracker.transcript("web-zzz") is None
    assert tracker.transcript("") is None


def test_messages_not_understood_newest_first():
    seed()
    found = tracker.not_understood()
    assert [(m["text"], m["intent"]) for m in found] == [
        ("asdfgh", "nlu_fallback"),
        ("I'm Zoë, my knee hurts", "out_of_scope"),
    ]
    assert found[0]["conversation_id"] == "sms-+15550100"
