"""What the console shows from the clinic's records, as plain dicts (pages and JSON alike),
and the two things staff do to them: mark a call-back done, retry a hand-off now.

Read through `actions.records`, which opens the sealed contact details with the data key.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import func, select

from actions.records import handoff
from actions.records.bookings import upcoming_bookings
from actions.records.callbacks import list_callbacks, mark_done
from actions.records.database import bookings as bookings_table
from actions.records.database import callbacks as callbacks_table
from actions.records.database import engine, outbox, triage_events, utc, utcnow
from actions.records.triage_log import recent_triage_events

LIMIT = 200


def bookings(limit: int = LIMIT) -> list[dict[str, Any]]:
    """Upcoming appointments, soonest first, with contact details, summary and triage."""
    return [
        {
            "reference": b.reference,
            "starts_at": b.starts_at,
            "ends_at": b.ends_at,
            "practitioner": b.practitioner,
            "patient_name": b.patient_name,
            "patient_type": b.patient_type,
            "phone": b.phone,
            "email": b.email,
            "reason": b.reason,
            "intake_summary": b.intake_summary,
            "triage_level": b.triage_level,
            "conversation_id": b.conversation_id,
        }
        for b in upcoming_bookings(limit)
    ]


def callbacks(*, include_done: bool = False, limit: int = LIMIT) -> list[dict[str, Any]]:
    """Call-back requests: the open ones, oldest first (then handled ones, when asked)."""
    return [dataclasses.asdict(c) for c in list_callbacks(include_done=include_done, limit=limit)]


def red_flags(limit: int = LIMIT) -> list[dict[str, Any]]:
    """Red-flag events, newest first; `flags` as a list of red-flag ids."""
    return [
        {
            "id": e["id"],
            "created_at": utc(e["created_at"]),
            "conversation_id": e["conversation_id"],
            "level": e["level"],
            "flags": [f for f in e["flags"].split(",") if f],
            "message": e["message"],
        }
        for e in recent_triage_events(limit)
    ]


def handoffs(limit: int = LIMIT) -> list[dict[str, Any]]:
    """Hand-off events not yet delivered to the clinic's system, oldest first."""
    return handoff.pending_handoffs(limit)


def webhook_configured() -> bool:
    return handoff.config().url() is not None


def mark_callback_done(callback_id: int, username: str) -> bool:
    """False when there is no such open request (already done, or never existed)."""
    return mark_done(callback_id, username)


def retry_handoff(outbox_id: int) -> dict[str, Any]:
    """Deliver one pending hand-off now; what happened (see handoff.retry_now)."""
    return handoff.retry_now(outbox_id)


def overview(now: dt.datetime | None = None) -> dict[str, int]:
    """Counts for the console's front page (no patient data, so no audit entry)."""
    now = now or utcnow()
    week_ago = now - dt.timedelta(days=7)
    counts = {
        "upcoming_bookings": select(func.count())
        .select_from(bookings_table)
        .where(bookings_table.c.active == 1, bookings_table.c.starts_at >= now),
        "open_callbacks": select(func.count())
        .select_from(callbacks_table)
        .where(callbacks_table.c.status == "open"),
        "red_flags_7_days": select(func.count())
        .select_from(triage_events)
        .where(triage_events.c.created_at >= week_ago),
        "pending_handoffs": select(func.count())
        .select_from(outbox)
        .where(outbox.c.status == "pending"),
    }
    with engine().connect() as conn:
        return {name: conn.execute(query).scalar_one() for name, query in counts.items()}
