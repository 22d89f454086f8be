"""The hand-off outbox: events written in the same transaction as the change they report.

`enqueue` adds an event inside the caller's transaction; after the commit the writer calls
`committed()`, which tells every subscriber (the delivery worker, actions/records/handoff.py)
to wake up. Writers never reach into the worker: they only announce that there is work.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection

from actions.records.database import outbox, utcnow
from actions.records.sealed import seal

KINDS = ("booking.created", "booking.cancelled", "booking.rescheduled", "callback.requested")

_subscribers: list[Callable[[], None]] = []
_subscribers_lock = threading.Lock()


def subscribe(wake: Callable[[], None]) -> None:
    """Call `wake` after every committed hand-off event (until `unsubscribe`)."""
    with _subscribers_lock:
        _subscribers.append(wake)


def unsubscribe(wake: Callable[[], None]) -> None:
    with _subscribers_lock:
        if wake in _subscribers:
            _subscribers.remove(wake)


def committed() -> None:
    """Announce that a transaction with hand-off events has committed."""
    with _subscribers_lock:
        subscribers = list(_subscribers)
    for wake in subscribers:
        wake()


def enqueue(conn: Connection, kind: str, payload: dict[str, Any]) -> int:
    """Write an event in the caller's transaction; its uuid is the idempotency key."""
    if kind not in KINDS:
        raise ValueError(f"unknown hand-off kind {kind!r}")
    now = utcnow()
    body = {"event": kind, "id": str(uuid.uuid4()), "created_at": now.isoformat(), **payload}
    row = {
        "created_at": now,
        "kind": kind,
        "payload": seal(json.dumps(body, ensure_ascii=False)),  # it names the patient
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
    }
    return conn.execute(insert(outbox).values(**row)).inserted_primary_key[0]
