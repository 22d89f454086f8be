"""The console on PostgreSQL (replicas and the cluster deployment): its tables, the rate
limit, sessions and audit in the clinic database, and the conversations read from a
PostgreSQL tracker store (case-insensitive search with ILIKE, timestamps by day)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from actions.records.database import _engine_for
from console import accounts, audit, report, sessions, store, throttle, tracker
from tests.console.conftest import PASSWORD
from tests.console.seed import red_flag, tracker_events
from tests.console.test_report import WEEK, local

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def on_postgres(postgres_url, monkeypatch) -> Iterator[str]:
    """The clinic database and the tracker store on the test server, emptied first."""
    from tests.pg import _empty

    _empty(postgres_url)
    engine = _engine_for(postgres_url)
    store.metadata.create_all(engine)
    with engine.begin() as conn:
        names = ", ".join(t.name for t in store.metadata.sorted_tables)
        conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY"))
        conn.execute(sa.text("DROP TABLE IF EXISTS events"))
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    monkeypatch.setenv("TRACKER_DB_URL", postgres_url)
    yield postgres_url


def test_accounts_sessions_limits_and_audit_on_postgres():
    accounts.add_user("alice", PASSWORD)
    with pytest.raises(accounts.AccountError):
        accounts.add_user("alice", PASSWORD)
    assert accounts.sign_in("alice", PASSWORD, "10.0.0.1").ok
    for _ in range(5):
        accounts.sign_in("alice", "wrong password!", "10.0.0.1")
    assert throttle.locked("alice", "10.0.0.1") is not None
    token, session = sessions.start("alice")
    assert sessions.find(token) == session
    sessions.end(token)
    assert sessions.find(token) is None
    audit.record("alice", "transcript web-1", "10.0.0.1")
    assert [e.what for e in audit.entries()] == ["transcript web-1"]


def test_conversations_from_a_postgres_tracker_store():
    assert tracker.conversations() == []  # no events table yet
    at = dt.datetime(2026, 11, 2, 9, tzinfo=dt.timezone.utc)
    tracker_events(
        [
            {"sender": "web-1", "type": "user", "at": at, "text": "Zoë here, 100% SORE",
             "intent": "nlu_fallback"},
            {"sender": "web-2", "type": "user", "at": at, "text": "hello", "intent": "greet"},
        ]
    )  # fmt: skip
    ids = lambda q: [c["conversation_id"] for c in tracker.conversations(q)]  # noqa: E731
    assert ids("sore") == ["web-1"] and ids("ZOË") == ["web-1"] and ids("%") == ["web-1"]
    assert ids("WEB-2") == ["web-2"]
    assert tracker.transcript("web-1")[0]["text"] == "Zoë here, 100% SORE"
    assert [m["conversation_id"] for m in tracker.not_understood()] == ["web-1"]


def test_the_weekly_report_on_postgres():
    tracker_events(
        [{"sender": "a", "type": "user", "at": local(2, 10), "text": "x", "intent": "faq"}]
    )
    red_flag(local(1, 8), ["saddle_numbness"])
    week = report.weekly(WEEK)
    assert week.conversations == [0, 0, 1, 0, 0, 0, 0]
    assert week.red_flags == {"saddle_numbness": 1}
