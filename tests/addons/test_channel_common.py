"""Splitting long answers for a platform's limit, and answering a retried event once."""

from __future__ import annotations

import pytest

from addons.channels.common import SeenEvents, split_text

WARNING = "Call 911 now: this needs urgent medical attention."


def test_short_text_is_one_piece():
    assert split_text("  Hello there.  ", 50) == ["Hello there."]


def test_pieces_fit_and_no_word_is_cut():
    words = " ".join(f"word{i}" for i in range(400))
    pieces = split_text(words, 100)
    assert all(len(p) <= 100 for p in pieces)
    assert " ".join(pieces).split() == words.split()


def test_paragraphs_and_sentences_are_preferred_cuts():
    text = f"{WARNING}\n\n" + "Some more detail follows here. " * 10
    pieces = split_text(text, 120)
    assert pieces[0] == WARNING  # the warning stays whole, on its own
    assert all(p.endswith(".") for p in pieces)


def test_a_word_longer_than_the_limit_is_the_only_thing_cut():
    assert split_text("a " + "x" * 30, 10) == ["a", "x" * 10, "x" * 10, "x" * 10]


def test_a_repeated_event_is_seen_once_within_the_window():
    seen = SeenEvents(ttl=10, size=3, redis_url="")
    assert seen.first_time("e1", now=0) and not seen.first_time("e1", now=5)
    assert seen.first_time("e1", now=20)  # forgotten after the window
    assert seen.first_time(None) and seen.first_time(None)  # no id: always answered
    for i in range(5):
        seen.first_time(f"x{i}", now=21)
    assert len(seen._seen) == 3


def test_the_number_a_red_flag_reply_leads_with():
    from addons.channels.common import red_flag_call

    assert red_flag_call(WARNING) == "911"
    assert red_flag_call("Please call or text 988 now to talk to someone.") == "988"
    assert red_flag_call("Call +44 20 7946 0000 now, or go to A&E.") == "+44 20 7946 0000"
    assert red_flag_call("Sciatica is common. Call 911 now if...") is None  # not leading


@pytest.mark.scale
def test_replicas_share_the_seen_events_in_redis(redis_url):
    """Two servers (two SeenEvents on one Redis): a retry reaching the other is a repeat."""
    first, second = SeenEvents(ttl=60, redis_url=redis_url), SeenEvents(ttl=60, redis_url=redis_url)
    assert first.first_time("slack:Ev1") is True
    assert second.first_time("slack:Ev1") is False
    assert second.first_time("slack:Ev2") is True


def test_a_redis_that_is_down_still_answers_once_per_server():
    seen = SeenEvents(redis_url="redis://127.0.0.1:9/0")
    assert seen.first_time("twilio:SM1") is True
    assert seen.first_time("twilio:SM1") is False
