"""A person's records forgotten at their request ("delete my data"), and what is kept.

Forgetting happens in one transaction: the conversation's future appointments are
cancelled (the clinic's system hears of it through the outbox, as for any cancellation);
then its bookings, call-back requests and red-flag notes lose the name, contact details,
the person's own words and the conversation id (a messaging channel's id can be a phone
number); its hand-off events lose the same, and those not yet sent that only asked for a
call-back are dropped. Times, practitioners and triage levels stay, so the clinic's
figures still add up. A row in `deletions` records that a deletion happened, never what
or whose. The conversation itself is deleted by the Rasa server's tracker store
(addons/tracker_store.py), because it holds the conversation while the action runs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection

from actions.records import outbox as outbox_events
from actions.records.bookings import Booking, bookings_of, cancel_row
from actions.records.callbacks import Callback, list_for
from actions.records.database import (
    bookings,
    callbacks,
    deletions,
    engine,
    outbox,
    triage_events,
    utc,
    utcnow,
    write,
)
from actions.records.sealed import seal, unseal

log = logging.getLogger(__name__)

#: What a forgotten row's conversation id becomes.
FORGOTTEN = "forgotten"


@dataclass
class Stored:
    """What the records hold for one conversation (for "what do you know about me?")."""

    bookings: list[Booking] = field(default_factory=list)
    callbacks: list[Callback] = field(default_factory=list)
    red_flag_notes: int = 0


@dataclass
class Forgotten:
    """What forgetting removed: the patient is told, the deletions table counts it."""

    cancelled: list[Booking] = field(default_factory=list)
    bookings_cleared: int = 0
    callbacks_cleared: int = 0
    red_flag_notes: int = 0
    handoffs_cleared: int = 0


def stored_for(conversation_id: str) -> Stored:
    """The bookings, call-back requests and red-flag notes this conversation left."""
    with engine().connect() as conn:
        notes = conn.execute(
            select(func.count()).where(triage_events.c.conversation_id == conversation_id[:128])
        ).scalar_one()
    return Stored(bookings_of(conversation_id), list_for(conversation_id), notes)


def future_bookings(conversation_id: str, now: dt.datetime | None = None) -> list[Booking]:
    """The conversation's appointments still to come: forgetting cancels them first."""
    moment = utc(now or utcnow())
    return [
        b
        for b in bookings_of(conversation_id)
        if b.status == "booked" and utc(b.starts_at) > moment
    ]


def forget(conversation_id: str, channel: str, now: dt.datetime | None = None) -> Forgotten:
    """Cancel what is to come, clear the person from every record, note the deletion."""
    key = conversation_id[:128]
    moment = now or utcnow()

    def work(conn: Connection) -> Forgotten:
        done = Forgotten()
        for booking in bookings_of(key, conn):
            if booking.status == "booked" and utc(booking.starts_at) > utc(moment):
                cancelled = cancel_row(conn, booking.id, key)
                if cancelled is not None:
                    done.cancelled.append(cancelled)
        done.handoffs_cleared = _clear_handoffs(conn, key)
        done.bookings_cleared = _clear(conn, bookings, key, moment, reason="", intake_summary="")
        done.callbacks_cleared = _clear(
            conn, callbacks, key, None, reason="", intake_summary="", status="withdrawn"
        )
        done.red_flag_notes = conn.execute(
            update(triage_events)
            .where(triage_events.c.conversation_id == key)
            .values(conversation_id=FORGOTTEN, message="")
        ).rowcount
        conn.execute(insert(deletions).values(**_deletion_row(done, channel, moment)))
        return done

    done = write(work)
    if done.cancelled:
        outbox_events.committed()
    log.info(
        "forgotten on request: %d bookings (%d cancelled), %d call-backs, %d red-flag notes",
        done.bookings_cleared,
        len(done.cancelled),
        done.callbacks_cleared,
        done.red_flag_notes,
    )
    return done


def _clear(conn: Connection, table: Any, key: str, moment: Any, **values: Any) -> int:
    """Blank a table's personal columns for the conversation's rows; how many."""
    values = {"patient_name": "", "phone": None, "email": None, **values}
    if moment is not None:
        values["updated_at"] = moment
    stmt = update(table).where(table.c.conversation_id == key)
    return conn.execute(stmt.values(conversation_id=FORGOTTEN, **values)).rowcount


def _clear_handoffs(conn: Connection, key: str) -> int:
    """The conversation's hand-off events: a pending call-back request is dropped (nobody
    is to call), every other event keeps what the clinic needs (the booking reference,
    time and status) and loses the person. How many were changed or dropped."""
    changed = 0
    for row in conn.execute(select(outbox.c.id, outbox.c.kind, outbox.c.status, outbox.c.payload)):
        payload = json.loads(unseal(row.payload) or "{}")
        if payload.get("conversation_id") != key:
            continue
        if row.kind == "callback.requested" and row.status == "pending":
            conn.execute(delete(outbox).where(outbox.c.id == row.id))
        else:
            stmt = update(outbox).where(outbox.c.id == row.id)
            conn.execute(stmt.values(payload=seal(json.dumps(_without_person(payload)))))
        changed += 1
    return changed


def _without_person(payload: dict[str, Any]) -> dict[str, Any]:
    """A hand-off payload with the person's name, contact and words taken out."""
    clean = {**payload, "conversation_id": FORGOTTEN, "intake_summary": ""}
    if "booking" in clean:
        patient = {**clean["booking"].get("patient", {}), "name": "", "phone": None, "email": None}
        clean["booking"] = {**clean["booking"], "patient": patient, "reason": ""}
    if "callback" in clean:
        clean["callback"] = {"name": "", "phone": None, "email": None, "reason": ""}
    return clean


def _deletion_row(done: Forgotten, channel: str, moment: dt.datetime) -> dict[str, Any]:
    return {
        "created_at": moment,
        "channel": (channel or "unknown")[:32],
        "bookings_cleared": done.bookings_cleared,
        "bookings_cancelled": len(done.cancelled),
        "callbacks_cleared": done.callbacks_cleared,
    }
