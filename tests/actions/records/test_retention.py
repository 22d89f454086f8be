"""Retention (actions/records/retention.py) with a clock the tests set: idle conversations
leave Rasa's own SQL tracker store, contact details leave past bookings, delivered hand-off
events go, and everything still in use stays; on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import insert, select

from actions.records import database
from actions.records.retention import REMOVED_NAME, purge
from scripts import staff

NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def tracker_store(url: str):
    """Rasa's SQL tracker store on the test's database, as the Rasa server would use it."""
    from rasa.core.tracker_store import SQLTrackerStore

    if url.startswith("sqlite:///"):
        return SQLTrackerStore(dialect="sqlite", db=url.removeprefix("sqlite:///"))
    parts = urlsplit(url)
    return SQLTrackerStore(
        dialect="postgresql",
        host=parts.hostname,
        port=parts.port,
        db=parts.path.strip("/"),
        username=parts.username,
    )


def save_conversation(store, sender: str, last_message: dt.datetime) -> None:
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    start = (last_message - dt.timedelta(minutes=5)).timestamp()
    events = [
        ActionExecuted("action_listen", timestamp=start),
        UserUttered("my back hurts", timestamp=start + 1),
        ActionExecuted("action_listen", timestamp=last_message.timestamp()),
        UserUttered("my name is Pat, 555 0100", timestamp=last_message.timestamp()),
    ]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))


def senders(store) -> set[str]:
    return set(asyncio.run(store.keys()))


def booking(reference: str, starts_at: dt.datetime, slot: int) -> dict:
    return {
        "reference": reference,
        "status": "booked",
        "active": 1,
        "starts_at": starts_at,
        "practitioner": f"Dr. Test {slot}",
        "patient_name": "Pat Example",
        "phone": "+15550100123",
        "email": "pat@example.org",
        "patient_type": "new",
        "reason": "low back pain",
        "intake_summary": "Low back pain, 3 weeks",
        "triage_level": "routine",
        "conversation_id": "conv-1",
        "created_at": days_ago(90),
        "updated_at": days_ago(90),
    }


def handoff(status: str, delivered: dt.datetime | None) -> dict:
    return {
        "created_at": days_ago(60),
        "kind": "booking_created",
        "payload": '{"name": "Pat Example"}',
        "status": status,
        "attempts": 1,
        "next_attempt_at": days_ago(60),
        "delivered_at": delivered,
    }


def test_a_purge_removes_only_what_is_past_its_time(db_url):
    store = tracker_store(db_url)
    save_conversation(store, "idle", days_ago(31))
    save_conversation(store, "recent", days_ago(29))
    with database.engine().begin() as conn:
        conn.execute(
            insert(database.bookings),
            [
                booking("BK-OLDAAA", days_ago(31), 1),  # the appointment was 31 days ago
                booking("BK-NEWAAA", days_ago(29), 2),
                booking("BK-FUTURE", NOW + dt.timedelta(days=3), 3),
            ],
        )
        conn.execute(
            insert(database.outbox),
            [
                handoff("delivered", days_ago(31)),
                handoff("delivered", days_ago(2)),
                handoff("pending", None),  # never delivered yet: kept whatever its age
            ],
        )

    purged = purge(now=NOW, tracker_url=db_url)

    assert (purged.conversations, purged.contacts, purged.handoffs) == (1, 1, 1)
    assert purged.events == 4
    assert senders(store) == {"recent"}
    with database.engine().connect() as conn:
        rows = {r.reference: r for r in conn.execute(select(database.bookings))}
        statuses = sorted(r.status for r in conn.execute(select(database.outbox)))
    old = rows["BK-OLDAAA"]
    assert (old.patient_name, old.phone, old.email) == (REMOVED_NAME, None, None)
    assert (old.reason, old.triage_level, old.status) == ("low back pain", "routine", "booked")
    assert all(rows[r].patient_name == "Pat Example" for r in ("BK-NEWAAA", "BK-FUTURE"))
    assert statuses == ["delivered", "pending"]

    again = purge(now=NOW, tracker_url=db_url)  # nothing left to remove
    assert (again.conversations, again.contacts, again.handoffs) == (0, 0, 0)


def test_a_clinic_without_conversations_yet_purges_nothing(db_url, tmp_path):
    missing = f"sqlite:///{tmp_path / 'no-tracker.db'}"
    assert purge(now=NOW, tracker_url=missing).conversations == 0
    assert not (tmp_path / "no-tracker.db").exists()  # not created by looking


def test_staff_purge_prints_counts_not_content(db_url, tmp_path, capsys):
    store = tracker_store(f"sqlite:///{tmp_path / 'tracker.db'}")
    save_conversation(store, "idle", dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=45))
    assert staff.main(["purge", "--tracker-db", f"sqlite:///{tmp_path / 'tracker.db'}"]) == 0
    out = capsys.readouterr().out
    assert "1 idle conversations deleted (4 events)" in out
    assert "Pat" not in out and "555" not in out


@pytest.mark.parametrize("days", [0, -1])
def test_a_conversation_period_under_a_day_is_refused(days):
    from pydantic import ValidationError

    from clinic.knowledge.models import Retention

    with pytest.raises(ValidationError):
        Retention(conversation_days=days)


def test_the_worker_purges_at_start_and_keeps_going_after_an_error(db_url, tmp_path, caplog):
    from actions.records.retention import RetentionWorker

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    store = tracker_store(url)
    save_conversation(store, "idle", days_ago(40))
    clock_calls = []

    def clock() -> dt.datetime:
        clock_calls.append(1)
        if len(clock_calls) == 2:
            raise RuntimeError("clock broke")  # one failed pass: logged, then the next one
        return NOW

    worker = RetentionWorker(interval=0.05, tracker_url=url, clock=clock)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while worker.passes < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        worker.stop()
    assert worker.passes >= 3 and not worker.is_alive()
    assert senders(store) == set()
    assert "retention pass failed: RuntimeError" in caplog.text


def test_the_worker_leaves_conversations_alone_unless_told_where_they_are(monkeypatch):
    from actions.records.retention import named_tracker_db_url

    monkeypatch.delenv("TRACKER_DB_URL", raising=False)
    monkeypatch.delenv("TRACKER_DB_PATH", raising=False)
    assert named_tracker_db_url() is None
    monkeypatch.setenv("TRACKER_DB_PATH", "/tmp/t.db")
    assert named_tracker_db_url() == "sqlite:////tmp/t.db"
    monkeypatch.setenv("TRACKER_DB_URL", "postgresql://u@h/tracker")
    assert named_tracker_db_url() == "postgresql://u@h/tracker"
