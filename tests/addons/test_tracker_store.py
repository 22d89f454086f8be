"""The cached SQL tracker store: it hands back the tracker it saved only while that is still
what the database holds, so two Rasa servers sharing the database never answer from a stale
conversation, and a message whose handling failed half-way leaves no trace."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from addons.tracker_store import CachedSQLTrackerStore

DOMAIN = Domain.from_yaml("version: '3.1'\nintents: [greet]\n")


def run(coro):
    return asyncio.run(coro)


def store(path) -> CachedSQLTrackerStore:
    return CachedSQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(path))


def conversation(sender: str, *texts: str, domain: Domain = DOMAIN) -> DialogueStateTracker:
    """A conversation as the database hands it back: from its session start on."""
    tracker = DialogueStateTracker(sender, domain.slots)
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
    run(cached.save(tracker))
    kept = cached._saved["p1"]
    assert (kept.rows, kept.last_id) == cached._rows("p1")
    assert kept.rows == len(tracker.events)
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


def full_read(path, sender: str) -> DialogueStateTracker:
    return run(SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(path)).retrieve(sender))


def test_only_the_rows_another_replica_added_are_read_and_replayed(tmp_path):
    path = tmp_path / "t.db"
    first, second = store(path), store(path)
    mine = conversation("p6", "my back hurts")
    run(first.save(mine))
    for text in ("3 days", "worse when I cough"):  # the other replica's turns
        other = run(second.retrieve("p6"))
        other.update(UserUttered(text))
        other.update(ActionExecuted("action_listen"))
        run(second.save(other))
    again = run(first.retrieve("p6"))
    assert again is mine  # brought up to date, not read whole
    whole = full_read(path, "p6")
    assert list(again.events) == list(whole.events)
    assert again.current_state() == whole.current_state()
    assert (first._saved["p6"].rows, first._saved["p6"].last_id) == first._rows("p6")
    mine.update(UserUttered("is it serious?"))
    run(first.save(mine))
    assert list(full_read(path, "p6").events) == list(mine.events)


def test_a_new_session_or_removed_rows_from_elsewhere_read_the_whole_session(tmp_path):
    path = tmp_path / "t.db"
    first, second = store(path), store(path)
    for sender in ("p7", "p8"):
        run(first.save(conversation(sender, "my back hurts")))
    other = run(second.retrieve("p7"))
    other.update(ActionExecuted("action_session_start"))
    other.update(SessionStarted())
    run(second.save(other))
    again = run(first.retrieve("p7"))
    assert again is not None and user_texts(again) == []  # the new session only
    assert list(again.events) == list(full_read(path, "p7").events)

    kept = run(first.retrieve("p8"))
    with first.session_scope() as session:  # e.g. a patient's data erased, then a new turn
        session.query(first.SQLEvent).filter_by(sender_id="p8").delete()
        session.commit()
    run(second.save(conversation("p8", "hello", "again")))
    again = run(first.retrieve("p8"))
    assert again is not kept and user_texts(again) == ["hello", "again"]


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


@pytest.mark.postgres
def test_a_database_restart_costs_no_message(postgres_url):
    """The pool's connections die with the server (here: ended by the server, as a restart
    does); the next read and save each succeed on a new connection, and nothing is stored
    twice."""
    from urllib.parse import urlsplit

    import psycopg2

    url = urlsplit(postgres_url)
    cached = CachedSQLTrackerStore(
        domain=DOMAIN,
        dialect="postgresql",
        host=url.hostname,
        port=url.port,
        db=url.path.lstrip("/"),
        username=url.username,
    )

    def end_the_pools_connections() -> None:
        with psycopg2.connect(postgres_url) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        conn.close()

    sender = f"restart-{uuid.uuid4().hex[:8]}"
    tracker = conversation(sender, "my back hurts")
    run(cached.save(tracker))
    cached._saved.clear()  # read from the database, not memory
    end_the_pools_connections()
    again = run(cached.retrieve(sender))
    assert list(again.events) == list(tracker.events)
    again.update(UserUttered("3 days"))
    end_the_pools_connections()
    run(cached.save(again))
    assert cached._rows(sender)[0] == len(again.events)


def test_sqlite_runs_in_write_ahead_mode_and_a_killed_writer_loses_no_commit(tmp_path):
    """WAL with NORMAL sync: every committed turn is in the database for the next process,
    even when the process that wrote it is killed (it never closed the database)."""
    import subprocess
    import sys
    import textwrap

    path = tmp_path / "t.db"
    with store(path).engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    writer = textwrap.dedent(
        f"""
        import asyncio, os, signal
        from rasa.shared.core.domain import Domain
        from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker
        from addons.tracker_store import CachedSQLTrackerStore
        domain = Domain.from_yaml("version: '3.1'\\nintents: [greet]\\n")
        s = CachedSQLTrackerStore(domain=domain, dialect="sqlite", db={str(path)!r})
        t = DialogueStateTracker("p9", domain.slots)
        for e in (SessionStarted(), ActionExecuted("action_listen"), UserUttered("3 days")):
            t.update(e)
        asyncio.run(s.save(t))
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    subprocess.run([sys.executable, "-c", writer], check=False, timeout=120)
    read = run(SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(path)).retrieve("p9"))
    assert user_texts(read) == ["3 days"]


FORGET_DOMAIN = Domain.from_yaml(
    "version: '3.1'\nintents: [greet]\nslots:\n  conversation_forgotten:\n"
    "    type: bool\n    mappings: [{type: custom}]\n"
)


def forget_flow(stores: list[CachedSQLTrackerStore], sender: str) -> None:
    """Two servers share a conversation; the first one forgets it on the patient's word."""
    first, second = stores
    tracker = conversation(sender, "my name is Zoë, 07700 900123", domain=FORGET_DOMAIN)
    run(first.save(tracker))
    run(first.save(conversation("someone-else", "my back hurts")))
    assert run(second.retrieve(sender)) is not None  # the other server has it in memory too
    tracker.update(UserUttered("delete my data"))
    tracker.update(SlotSet("conversation_forgotten", True))
    run(first.save(tracker))
    for server in (first, second):
        assert run(server.retrieve(sender)) is None
        assert server._rows(sender) == (0, 0)
        assert user_texts(run(server.retrieve("someone-else"))) == ["my back hurts"]


def test_a_forgotten_conversation_is_deleted_instead_of_saved(tmp_path):
    path = tmp_path / "t.db"
    forget_flow([store(path), store(path)], "p9")
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert "Zoë".encode() not in raw and b"900123" not in raw


@pytest.mark.postgres
def test_a_forgotten_conversation_is_deleted_on_postgresql(postgres_url):
    from urllib.parse import urlsplit

    url = urlsplit(postgres_url)
    stores = [
        CachedSQLTrackerStore(
            domain=DOMAIN,
            dialect="postgresql",
            host=url.hostname,
            port=url.port,
            db=url.path.lstrip("/"),
            username=url.username,
        )
        for _ in range(2)
    ]
    forget_flow(stores, f"forget-{uuid.uuid4().hex[:8]}")
