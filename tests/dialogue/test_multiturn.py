"""Multi-turn conversations written as patients type (tests/conversations/), end to end
through the trained model and the real action server: every turn handled as expected."""

from __future__ import annotations

import pytest

from scripts.multiturn import load, player, report_line, run, slug

CONVERSATIONS = load()


def test_there_are_enough_conversations():
    assert len(CONVERSATIONS) >= 60
    assert all(3 <= len(c.turns) <= 8 for c in CONVERSATIONS)


def marked(conversation):
    """A conversation with a known miss (`known_miss` in its file) must still miss, so a fix
    is noticed and the mark removed."""
    reason = conversation.known_miss
    if not reason:
        return conversation
    return pytest.param(conversation, marks=pytest.mark.xfail(reason=reason, strict=True))


@pytest.mark.model
@pytest.mark.parametrize(
    "conversation", [marked(c) for c in CONVERSATIONS], ids=lambda c: f"{c.file}-{slug(c.name)}"
)
def test_conversation(agent, conversation):
    results = run(conversation, player(agent, f"multiturn-{slug(conversation.name)}"))
    assert all(r.ok for r in results), report_line(conversation, results)


def test_at_least_95_percent_of_conversations_are_handled():
    """The target of issue 16, on what is marked as known misses (each checked above)."""
    misses = [c for c in CONVERSATIONS if c.known_miss]
    assert len(misses) <= 0.05 * len(CONVERSATIONS)
