"""Rasa's SQL tracker store, with the conversations it last saved kept in memory.

Rasa reads a conversation back from the database for every message: every event row, parsed
and replayed, so each message costs more as the conversation grows (a py-spy profile under
load: 15% of the server's CPU, and most of the slowdown at turn 60). This store keeps the
tracker it saved last for each recent conversation and hands it back while it is still
current: the database holds the same number of rows for the conversation (one indexed count
instead of reading every row), and nothing has been added to the tracker since it was saved
(a message whose handling failed half-way is read again from the database). Another Rasa
server answering the same conversation adds rows, so its changes are always seen. A new
session, a conversation's first message, or a cache over `TRACKER_CACHE_SIZE`
conversations (default 200) reads from the database instead.

    tracker_store:
      type: addons.tracker_store.CachedSQLTrackerStore
      dialect: sqlite | postgresql
      ...the keys of Rasa's SQL tracker store
"""

from __future__ import annotations

import itertools
import os
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

DEFAULT_CACHE_SIZE = 200


@dataclass
class _Saved:
    tracker: DialogueStateTracker
    rows: int  # the conversation's rows in the database when it was saved
    events: int  # the tracker's events when it was saved


class CachedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` that answers `retrieve` from the trackers it saved, while current."""

    def __init__(self, *args: Any, cache_size: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        size = cache_size or int(os.environ.get("TRACKER_CACHE_SIZE", DEFAULT_CACHE_SIZE))
        self.cache_size = max(0, size)
        self._saved: OrderedDict[str, _Saved] = OrderedDict()
        self._saving: dict[str, _Saved] = {}  # the entry of a tracker being saved

    def _rows(self, sender_id: str) -> int:
        with self.session_scope() as session:
            return session.query(self.SQLEvent).filter_by(sender_id=sender_id).count()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        saved = self._saved.get(sender_id)
        if saved is not None:
            if len(saved.tracker.events) == saved.events and self._rows(sender_id) == saved.rows:
                self._saved.move_to_end(sender_id)
                return saved.tracker
            del self._saved[sender_id]
        return await super().retrieve(sender_id)

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The events not stored yet. For a tracker handed back from memory these are the
        ones after those it had when saved (the conversation is locked meanwhile), so Rasa's
        count of the stored events is not needed."""
        before = self._saving.get(tracker.sender_id)
        if before is not None and before.tracker is tracker:
            return itertools.islice(tracker.events, before.events, len(tracker.events))
        return super()._additional_events(session, tracker)

    async def save(self, tracker: DialogueStateTracker) -> None:
        before = self._saved.pop(tracker.sender_id, None)
        if before is not None:
            self._saving[tracker.sender_id] = before
        try:
            await super().save(tracker)
        finally:
            self._saving.pop(tracker.sender_id, None)
        if self.cache_size and _as_read_back(tracker):
            if before is not None and before.tracker is tracker:
                # Rasa's save added exactly the events that came after the last one (the
                # conversation is locked meanwhile), so no need to count again
                rows = before.rows + len(tracker.events) - before.events
            else:
                rows = self._rows(tracker.sender_id)
            self._saved[tracker.sender_id] = _Saved(tracker, rows, len(tracker.events))
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
