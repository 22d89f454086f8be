"""Retention: what patients tell the assistant is not kept longer than the clinic says.

`knowledge/clinic.yml`, `retention`:

- `conversation_days`: a conversation with no message for that long is deleted from the
  tracker store, every event of it (Rasa's SQL store, SQLite or PostgreSQL). Rasa has no API
  for this (RasaHQ/rasa#10719); the rows go, and the Rasa server's cache of recent trackers
  (addons/tracker_store.py) notices rows removed and reads the conversation afresh.
- `contact_days_after_visit`: that long after an appointment (kept or cancelled), its
  booking keeps the time, reason, intake summary and triage level for the clinic's records,
  but loses the patient's name, phone and email. Hand-off events already delivered to the
  clinic's system, whose payloads carry the same details, are deleted after the same time;
  pending ones are kept until they are delivered, so nothing is lost.

`scripts/staff.py purge` runs it on demand, and the action server's `RetentionWorker` every
`RETENTION_INTERVAL_HOURS` (default 24) from its start. The worker deletes conversations only
from a tracker store its environment names (TRACKER_DB_URL or TRACKER_DB_PATH, which `make
run` passes to it), so an action server started by a test or an evaluation never touches a
developer's conversations. `now` is a parameter so tests control the clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from actions.records.database import bookings, outbox, utcnow, write
from clinic.knowledge import knowledge
from clinic.paths import tracker_db_path

log = logging.getLogger(__name__)

#: `bookings.patient_name` is required; a removed name is an empty one.
REMOVED_NAME = ""
#: Rasa's SQL tracker store keeps every event of every conversation in this table.
TRACKER_EVENTS = "events"


@dataclass(frozen=True)
class Purged:
    """What one purge removed (counts only: never what was said)."""

    conversations: int
    events: int
    contacts: int
    handoffs: int

    def line(self) -> str:
        return (
            f"{self.conversations} idle conversations deleted ({self.events} events), "
            f"contact details removed from {self.contacts} past bookings, "
            f"{self.handoffs} delivered hand-off events deleted"
        )


def tracker_db_url() -> str:
    """Where the conversations are: TRACKER_DB_URL (PostgreSQL), else the SQLite file that
    `make run` uses (TRACKER_DB_PATH, default var/tracker.db)."""
    return os.environ.get("TRACKER_DB_URL") or f"sqlite:///{tracker_db_path()}"


def named_tracker_db_url() -> str | None:
    """The tracker store the environment names (TRACKER_DB_URL, else TRACKER_DB_PATH), or None."""
    if os.environ.get("TRACKER_DB_URL"):
        return os.environ["TRACKER_DB_URL"]
    return f"sqlite:///{tracker_db_path()}" if os.environ.get("TRACKER_DB_PATH") else None


def remove_old_contacts(now: dt.datetime, days: int) -> int:
    """Blank the name, phone and email of bookings whose appointment was `days` ago or more."""
    cutoff = now - dt.timedelta(days=days)
    has_contact = sa.or_(
        bookings.c.patient_name != REMOVED_NAME,
        bookings.c.phone.is_not(None),
        bookings.c.email.is_not(None),
    )
    stmt = (
        sa.update(bookings)
        .where(bookings.c.starts_at < cutoff, has_contact)
        .values(patient_name=REMOVED_NAME, phone=None, email=None, updated_at=now)
    )
    return write(lambda conn: conn.execute(stmt).rowcount)


def drop_delivered_handoffs(now: dt.datetime, days: int) -> int:
    """Delete hand-off events delivered `days` ago or more (pending ones stay)."""
    cutoff = now - dt.timedelta(days=days)
    stmt = sa.delete(outbox).where(outbox.c.status == "delivered", outbox.c.delivered_at < cutoff)
    return write(lambda conn: conn.execute(stmt).rowcount)


def delete_idle_conversations(url: str, now: dt.datetime, days: int) -> tuple[int, int]:
    """Delete every event of the conversations whose last event is `days` old or more.
    Returns (conversations, events); (0, 0) when the store has no conversations yet."""
    if url.startswith("sqlite:///") and not _sqlite_file_exists(url):
        return 0, 0
    engine = sa.create_engine(url, future=True)
    if engine.dialect.name == "sqlite":  # overwrite what is deleted, as the Rasa server does
        sa.event.listen(
            engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA secure_delete=ON")
        )
    try:
        if not sa.inspect(engine).has_table(TRACKER_EVENTS):
            return 0, 0
        with engine.begin() as conn:
            return _delete_idle(conn, now.timestamp() - days * 86400)
    finally:
        engine.dispose()


def _delete_idle(conn: Connection, cutoff: float) -> tuple[int, int]:
    events = sa.table(TRACKER_EVENTS, sa.column("sender_id"), sa.column("timestamp"))
    idle = (
        sa.select(events.c.sender_id)
        .group_by(events.c.sender_id)
        .having(sa.func.max(events.c.timestamp) < cutoff)
    )
    senders = [row[0] for row in conn.execute(idle)]
    removed = 0
    for start in range(0, len(senders), 500):  # stay under SQLite's bound-parameter limit
        chunk = senders[start : start + 500]
        removed += conn.execute(sa.delete(events).where(events.c.sender_id.in_(chunk))).rowcount
    return len(senders), removed


def _sqlite_file_exists(url: str) -> bool:
    return Path(url.removeprefix("sqlite:///")).is_file()


def purge(now: dt.datetime | None = None, tracker_url: str | None = None) -> Purged:
    """Apply the clinic's retention settings once; conversations only when `tracker_url`
    names the tracker store."""
    now = now or utcnow()
    settings = knowledge().clinic.retention
    conversations, events = (
        delete_idle_conversations(tracker_url, now, settings.conversation_days)
        if tracker_url
        else (0, 0)
    )
    purged = Purged(
        conversations=conversations,
        events=events,
        contacts=remove_old_contacts(now, settings.contact_days_after_visit),
        handoffs=drop_delivered_handoffs(now, settings.contact_days_after_visit),
    )
    log.info("retention: %s", purged.line())
    return purged


class RetentionWorker(threading.Thread):
    """A purge at start and every `interval` seconds; never dies of an error (it logs the
    error's type and tries again next time)."""

    def __init__(
        self,
        *,
        interval: float | None = None,
        tracker_url: str | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        super().__init__(name="retention", daemon=True)
        hours = float(os.environ.get("RETENTION_INTERVAL_HOURS") or 24)
        self.interval = interval if interval is not None else hours * 3600
        self.tracker_url = tracker_url
        self.clock = clock
        self.passes = 0
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.is_set():
            try:
                purge(now=self.clock(), tracker_url=self.tracker_url)
            except Exception as exc:  # keep serving; the next pass tries again
                log.error("retention pass failed: %s", type(exc).__name__)
            self.passes += 1
            self._stopping.wait(self.interval)

    def stop(self, timeout: float = 10) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout)


def start_retention() -> RetentionWorker:
    """The action server's retention worker (scripts/action_server.py)."""
    worker = RetentionWorker(tracker_url=named_tracker_db_url())
    worker.start()
    where = "and idle conversations" if worker.tracker_url else "(no tracker store named)"
    log.info("retention worker started: old contact details %s", where)
    return worker
