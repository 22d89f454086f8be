"""Red-flag events for staff review: written by the triage action, read by staff tools."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select

from actions.records.database import engine, triage_events


def record_triage_event(conversation_id: str, level: str, flags: list[str], message: str) -> int:
    """Store a red flag for staff review; returns the record's id."""
    row = {
        "created_at": dt.datetime.now(dt.timezone.utc),
        "conversation_id": conversation_id[:128],
        "level": level,
        "flags": ",".join(flags)[:512],
        "message": message,
    }
    with engine().begin() as conn:
        return conn.execute(insert(triage_events).values(**row)).inserted_primary_key[0]


def recent_triage_events(limit: int = 50) -> list[dict[str, Any]]:
    """The latest red-flag events, newest first."""
    query = select(triage_events).order_by(triage_events.c.id.desc()).limit(limit)
    with engine().connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
