"""Call-back requests as staff see them: open until someone marks them done.

`bookings.request_callback` writes the row together with its outbox event (the clinic
system's copy), so the two never disagree. The name and contact are sealed (sealed.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from actions.records.database import callbacks, engine, utc, utcnow, write
from actions.records.sealed import seal, unseal


@dataclass
class Callback:
    id: int
    created_at: dt.datetime  # aware UTC
    conversation_id: str
    patient_name: str
    phone: str | None
    email: str | None
    reason: str
    intake_summary: str
    triage_level: str
    status: str  # open / done
    handled_at: dt.datetime | None
    handled_by: str | None


def _callback(row: Any) -> Callback:
    m = row._mapping
    return Callback(
        id=m["id"],
        created_at=utc(m["created_at"]),
        conversation_id=m["conversation_id"],
        patient_name=unseal(m["patient_name"]) or "",
        phone=unseal(m["phone"]),
        email=unseal(m["email"]),
        reason=m["reason"],
        intake_summary=m["intake_summary"],
        triage_level=m["triage_level"],
        status=m["status"],
        handled_at=utc(m["handled_at"]) if m["handled_at"] else None,
        handled_by=m["handled_by"],
    )


def insert_callback(conn: Connection, person: dict[str, Any], details: dict[str, str]) -> int:
    """Add an open request in the caller's transaction; its id. `person` has name, phone and
    email (clean); `details` has conversation_id, reason, intake_summary, triage_level."""
    row = {
        "created_at": utcnow(),
        "conversation_id": details["conversation_id"][:128],
        "patient_name": seal(person["name"]) or "",
        "phone": seal(person["phone"]),
        "email": seal(person["email"]),
        "reason": details["reason"],
        "intake_summary": details["intake_summary"],
        "triage_level": details["triage_level"],
        "status": "open",
    }
    return conn.execute(callbacks.insert().values(**row)).inserted_primary_key[0]


def list_callbacks(*, include_done: bool = False, limit: int = 100) -> list[Callback]:
    """Requests, oldest open first (then the handled ones, newest first, when asked)."""
    query = select(callbacks)
    if not include_done:
        query = query.where(callbacks.c.status == "open")
    query = query.order_by(callbacks.c.status.desc(), callbacks.c.id).limit(limit)
    with engine().connect() as conn:
        return [_callback(row) for row in conn.execute(query)]


def list_for(conversation_id: str) -> list[Callback]:
    """The requests a conversation made, oldest first."""
    query = (
        select(callbacks)
        .where(callbacks.c.conversation_id == conversation_id[:128])
        .order_by(callbacks.c.id)
    )
    with engine().connect() as conn:
        return [_callback(row) for row in conn.execute(query)]


def mark_done(callback_id: int, handled_by: str, now: dt.datetime | None = None) -> bool:
    """Mark an open request handled; False when there is no such open request."""
    stmt = (
        update(callbacks)
        .where(callbacks.c.id == callback_id, callbacks.c.status == "open")
        .values(status="done", handled_at=now or utcnow(), handled_by=handled_by[:64])
    )
    return write(lambda conn: conn.execute(stmt).rowcount) == 1
