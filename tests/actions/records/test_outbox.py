"""The outbox announces commits to its subscribers; writers never reach into the worker."""

from __future__ import annotations

from actions.records import outbox


def test_a_commit_wakes_every_subscriber_until_it_unsubscribes():
    woken: list[str] = []

    def first() -> None:
        woken.append("first")

    def second() -> None:
        woken.append("second")

    outbox.subscribe(first)
    outbox.subscribe(second)
    try:
        outbox.committed()
        assert woken == ["first", "second"]
        outbox.unsubscribe(first)
        outbox.committed()
        assert woken == ["first", "second", "second"]
    finally:
        outbox.unsubscribe(first)
        outbox.unsubscribe(second)
    outbox.committed()
    assert len(woken) == 3


def test_unknown_kinds_are_refused_before_anything_is_written():
    import pytest

    with pytest.raises(ValueError, match="unknown hand-off kind"):
        outbox.enqueue(None, "booking.teleported", {})  # type: ignore[arg-type]
