"""Rasa's SQL tracker store, with the conversations it last saved kept in memory.

Rasa reads a conversation back from the database for every message: every event row, parsed
and replayed, so each message costs more as the conversation grows (a py-spy profile under
load: 15% of the server's CPU, and most of the slowdown at turn 60). This store keeps the
tracker it saved last for each recent conversation and hands it back while it is still
current: the database holds the same rows for the conversation (one indexed count and
highest id instead of reading every row), and nothing has been added to the tracker since it
was saved (a message whose handling failed half-way is read again from the database).

Another Rasa server answering the same conversation (replicas behind nginx take turns) adds
rows: only those rows are read and applied to the kept tracker, in order, exactly as reading
the whole conversation back would replay them. Anything else (rows removed, a new session,
a row older than the session's start, a conversation's first message, a cache over
`TRACKER_CACHE_SIZE` conversations, default 200) reads the whole session from the database.
SQLite (the default) keeps its connection open, in write-ahead-log mode (`_kept_open_write_ahead`).

A tracker whose `conversation_forgotten` slot is set ("delete my data", actions/privacy/) is
not saved: the conversation's rows are deleted instead (`forget`).

    tracker_store:
      type: addons.tracker_store.CachedSQLTrackerStore
      dialect: sqlite | postgresql
      ...the keys of Rasa's SQL tracker store
"""

from __future__ import annotations

import itertools
import json
import logging
import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

DEFAULT_CACHE_SIZE = 200
#: The slot action_forget_me sets once the records are cleared (domain/privacy.yml).
FORGOTTEN_SLOT = "conversation_forgotten"


def _dropped(error: sa.exc.DBAPIError) -> bool:
    """A pooled connection the database closed (it restarted, or ended idle sessions)."""
    return bool(error.connection_invalidated)


def _kept_open_write_ahead(engine: sa.engine.Engine) -> sa.engine.Engine:
    """The SQLite engine again, with its connection kept open and the database in
    write-ahead-log mode, synced at checkpoints. SQLAlchemy 1.4 opens and closes a file
    database's connection for every session (NullPool), and Rasa's store makes a session
    per read and per save: each save paid a connection, a journal and its fsyncs in the
    server's event loop (a commit alone: 0.76 ms; 0.015 ms in WAL mode). A commit survives
    any crash of the server; only a power cut may lose the last turns. The store is used
    from the event loop's thread only; one connection, kept (SingletonThreadPool)."""

    def on_connect(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # A deleted conversation's bytes are overwritten, not left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    engine.dispose()
    kept = sa.create_engine(engine.url, poolclass=sa.pool.SingletonThreadPool)
    sa.event.listen(kept, "connect", on_connect)
    return kept


@dataclass
class _Saved:
    tracker: DialogueStateTracker
    rows: int  # the conversation's rows in the database when it was saved
    last_id: int  # the highest of their ids
    events: int  # the tracker's events when it was saved


class CachedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that answers `retrieve` from the trackers it saved, while current."""

    def __init__(self, *args: Any, cache_size: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        engine: sa.engine.Engine = self.engine  # type: ignore[has-type]
        if engine.dialect.name == "sqlite":
            self.engine = _kept_open_write_ahead(engine)
            self.sessionmaker.configure(bind=self.engine)
        size = cache_size or int(os.environ.get("TRACKER_CACHE_SIZE", DEFAULT_CACHE_SIZE))
        self.cache_size = max(0, size)
        self._saved: OrderedDict[str, _Saved] = OrderedDict()
        self._saving: dict[str, _Saved] = {}  # the entry of a tracker being saved

    def _rows(self, sender_id: str) -> tuple[int, int]:
        """How many rows the conversation has, and the highest row id (0 for none)."""
        with self.session_scope() as session:
            return self._count(session, sender_id)

    def _count(self, session: Any, sender_id: str) -> tuple[int, int]:
        event = self.SQLEvent
        query = session.query(sa.func.count(event.id), sa.func.max(event.id))
        rows, last = query.filter(event.sender_id == sender_id).one()
        return int(rows), int(last or 0)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        try:
            return await self._retrieve_current(sender_id)
        except sa.exc.DBAPIError as error:
            if not _dropped(error):
                raise
            logger.warning("Tracker store: connection lost; reading again on a new one")
            self._saved.pop(sender_id, None)
            return await self._retrieve_current(sender_id)

    async def _retrieve_current(self, sender_id: str) -> DialogueStateTracker | None:
        saved = self._saved.get(sender_id)
        if saved is not None:
            tracker = self._brought_up_to_date(sender_id, saved)
            if tracker is not None:
                self._saved.move_to_end(sender_id)
                return tracker
            del self._saved[sender_id]
        return await super().retrieve(sender_id)

    def _brought_up_to_date(self, sender_id: str, saved: _Saved) -> DialogueStateTracker | None:
        """The kept tracker with the rows added since it was saved (by another server), or
        None when it is not what reading the session back would give."""
        if len(saved.tracker.events) != saved.events:
            return None  # changed here and never saved: a failed message
        with self.session_scope() as session:
            rows, last = self._count(session, sender_id)
            if (rows, last) == (saved.rows, saved.last_id):
                return saved.tracker
            if rows <= saved.rows:
                return None
            event = self.SQLEvent
            added = (
                session.query(event.id, event.type_name, event.timestamp, event.data)
                .filter(event.sender_id == sender_id, event.id > saved.last_id)
                .order_by(event.id)
                .all()
            )
        if saved.rows + len(added) != rows or not self._same_session(saved.tracker, added):
            return None
        for new_event in deserialise_events([json.loads(row.data) for row in added]):
            saved.tracker.update(new_event)
        saved.rows, saved.last_id = rows, added[-1].id
        saved.events = len(saved.tracker.events)
        return saved.tracker

    @staticmethod
    def _same_session(tracker: DialogueStateTracker, added: list[Any]) -> bool:
        """Whether reading back would keep every added row: Rasa keeps the rows from the
        last SessionStarted's timestamp on (the kept tracker starts with its only one)."""
        start = tracker.events[0].timestamp
        return all(
            row.type_name != SessionStarted.type_name and row.timestamp >= start for row in added
        )

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The events not stored yet. For a tracker handed back from memory these are the
        ones after those it had when saved (the conversation is locked meanwhile), so Rasa's
        count of the stored events is not needed."""
        before = self._saving.get(tracker.sender_id)
        if before is not None and before.tracker is tracker:
            return itertools.islice(tracker.events, before.events, len(tracker.events))
        return super()._additional_events(session, tracker)

    async def save(self, tracker: DialogueStateTracker) -> None:
        if tracker.get_slot(FORGOTTEN_SLOT):
            await self.forget(tracker.sender_id)
            return
        try:
            await self._save_and_keep(tracker)
        except sa.exc.DBAPIError as error:
            if not _dropped(error):
                raise
            logger.warning("Tracker store: connection lost; saving again on a new one")
            await self._save_and_keep(tracker)  # not kept any more: Rasa counts what is stored

    async def forget(self, sender_id: str) -> int:
        """Delete every row of the conversation (the patient asked: action_forget_me set
        FORGOTTEN_SLOT), instead of saving it; the next message starts a new one. Rasa has
        no API for this (RasaHQ/rasa#10719). How many rows were deleted."""
        self._saved.pop(sender_id, None)
        with self.session_scope() as session:
            event = self.SQLEvent
            deleted = session.query(event).filter(event.sender_id == sender_id).delete()
            session.commit()
            if self.engine.dialect.name == "sqlite":  # and the old pages out of the log
                session.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
        logger.info("Tracker store: a conversation deleted at the patient's request")
        return int(deleted)

    async def _save_and_keep(self, tracker: DialogueStateTracker) -> None:
        before = self._saved.pop(tracker.sender_id, None)
        if before is not None:
            self._saving[tracker.sender_id] = before
        try:
            await super().save(tracker)
        finally:
            self._saving.pop(tracker.sender_id, None)
        if self.cache_size and _as_read_back(tracker):
            rows, last = self._rows(tracker.sender_id)
            self._saved[tracker.sender_id] = _Saved(tracker, rows, last, len(tracker.events))
            while len(self._saved) > self.cache_size:
                self._saved.popitem(last=False)


def _as_read_back(tracker: DialogueStateTracker) -> bool:
    """Whether the tracker holds exactly what reading it back would give: the database
    returns the last session, from its SessionStarted on. A conversation's first tracker
    (with the session-start action before it) or one that went on into a new session holds
    more, so it is read again instead, once."""
    events = tracker.events
    if not events or not isinstance(events[0], SessionStarted):
        return False
    return sum(isinstance(event, SessionStarted) for event in events) == 1
