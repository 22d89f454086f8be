"""The cached SQL tracker store: it hands back the tracker it saved only while that is still
what the database holds, so two Rasa servers sharing the database never answer from a stale
conversation, and a message whose handling failed half-way leaves no trace."""

from __future__ import annotations

import asyncio

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from addons.tracker_store import CachedSQLTrackerStore

DOMAIN = Domain.from_yaml("version: '3.1'\nintents: [greet]\n")


def run(coro):
    return asyncio.run(coro)


def store(path) -> CachedSQLTrackerStore:
    return CachedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(path))


def conversation(sender: str, *texts: str) -> DialogueStateTracker:
    """A conversation as the database hands it back: from its session start on."""
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    tracker.update(SessionStarted())
    tracker.update(ActionExecuted("action_listen"))
    for text in texts:
        tracker.update(UserUttered(text))
        tracker.update(ActionExecuted("action_listen"))
    return tracker


def user_texts(tracker: DialogueStateTracker) -> list[str]:
    return [e.text for e in tracker.events if isinstance(e, UserUttered)]


def test_a_saved_conversation_comes_back_from_memory_with_the_same_events(tmp_path):
    cached = store(tmp_path / "t.db")
    tracker = conversation("p1", "my back hurts", "3 days")
    run(cached.save(tracker))
    assert run(cached.retrieve("p1")) is tracker
    tracker.update(UserUttered("worse when I cough"))
    run(cached.save(tracker))  # the count is carried forward, not queried: still right
    assert cached._saved["p1"].rows == cached._rows("p1") == len(tracker.events)
    fresh = run(
        SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db")).retrieve("p1")
    )
    assert list(fresh.events) == list(tracker.events)


def test_a_message_handled_by_another_replica_is_seen(tmp_path):
    first, second = store(tmp_path / "t.db"), store(tmp_path / "t.db")
    run(first.save(conversation("p2", "my back hurts")))
    other = run(second.retrieve("p2"))
    other.update(UserUttered("worse when I cough"))
    run(second.save(other))
    assert user_texts(run(first.retrieve("p2"))) == ["my back hurts", "worse when I cough"]


def test_events_added_but_never_saved_are_not_handed_back(tmp_path):
    cached = store(tmp_path / "t.db")
    tracker = conversation("p3", "my back hurts")
    run(cached.save(tracker))
    tracker.update(UserUttered("this message failed half-way"))  # no save: an error
    again = run(cached.retrieve("p3"))
    assert again is not tracker and user_texts(again) == ["my back hurts"]


def test_only_what_reading_back_would_give_is_kept(tmp_path):
    cached = store(tmp_path / "t.db")
    first = DialogueStateTracker("p5", DOMAIN.slots)  # a conversation's very first save
    first.update(ActionExecuted("action_session_start"))
    first.update(SessionStarted())
    first.update(UserUttered("hello"))
    run(cached.save(first))
    again = run(cached.retrieve("p5"))
    assert again is not first and isinstance(again.events[0], SessionStarted)
    run(cached.save(again))
    assert run(cached.retrieve("p5")) is again


def test_a_new_session_and_the_size_limit_drop_entries(tmp_path):
    cached = CachedSQLTrackerStore(
        domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "t.db"), cache_size=2
    )
    tracker = conversation("p4", "my back hurts")
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    run(cached.save(tracker))
    assert run(cached.retrieve("p4")) is not tracker  # read again: only the new session
    for sender in ("a", "b", "c"):
        run(cached.save(conversation(sender, "hello")))
    assert list(cached._saved) == ["b", "c"]
