"""The bounds every incoming message is checked against before anything runs on it."""

from __future__ import annotations

import pytest

from clinic.limits import Limits, bounded_metadata, too_long, valid_sender_id

LIMITS = Limits()


def test_defaults_and_environment():
    assert Limits.from_env({}) == Limits(2000, 128, 8192)
    assert Limits.from_env({"MAX_MESSAGE_CHARS": "500"}).message_chars == 500
    # a bad value keeps the default rather than turning the limit off
    assert Limits.from_env({"MAX_MESSAGE_CHARS": "lots"}).message_chars == 2000
    assert Limits.from_env({"MAX_MESSAGE_CHARS": "0"}).message_chars == 2000


def test_message_length_limit():
    assert not too_long("x" * 2000, LIMITS)
    assert too_long("x" * 2001, LIMITS)
    assert not too_long(None, LIMITS)  # a button with no text


@pytest.mark.parametrize(
    "sender",
    ["4f1c2a9e0b7d", "123456789", "whatsapp:+447700900123", "U024BE7LH", "me", "a b"],
)
def test_channel_sender_ids_pass(sender):
    assert valid_sender_id(sender, LIMITS)


@pytest.mark.parametrize("sender", ["", "x" * 129, "bad\nid", "tab\there", "\x00", None, 12])
def test_malformed_sender_ids_are_refused(sender):
    assert not valid_sender_id(sender, LIMITS)


def test_metadata_is_kept_only_when_a_small_json_object():
    assert bounded_metadata({"page": "/"}, LIMITS) == {"page": "/"}
    assert bounded_metadata({"blob": "x" * 9000}, LIMITS) is None
    assert bounded_metadata(["not", "an", "object"], LIMITS) is None
    assert bounded_metadata(None, LIMITS) is None
