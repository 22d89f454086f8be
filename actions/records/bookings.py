"""Appointments and call-back requests: booked, found, cancelled and moved in the database.

Double booking is prevented by the database's unique constraint (see database.py). Every
change writes its hand-off event to the outbox in the same transaction and announces the
commit (outbox.committed), so the clinic's system hears of exactly the bookings that exist.
Logs name references and ids only, never a patient's name, phone or email.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from actions.records import outbox
from actions.records.callbacks import insert_callback
from actions.records.database import bookings, engine, utc, utcnow, write
from actions.records.sealed import seal, unseal
from clinic.availability import Slot, candidate_slots, clinic_tz, nearest_free_slots
from clinic.knowledge import knowledge
from clinic.parsing.booking_answers import REFERENCE_ALPHABET

log = logging.getLogger(__name__)

PATIENT_TYPES = ("new", "returning")


class SlotTaken(Exception):
    """Someone else holds the slot (the database's unique constraint said so)."""


@dataclass
class Booking:
    id: int
    reference: str
    status: str
    starts_at: dt.datetime  # aware, clinic time zone
    practitioner: str
    patient_name: str
    phone: str | None
    email: str | None
    patient_type: str
    reason: str
    intake_summary: str
    triage_level: str
    conversation_id: str
    revision: int = 0  # +1 for every move or cancellation

    def slot(self) -> Slot:
        return Slot(self.starts_at, self.practitioner)

    @property
    def ends_at(self) -> dt.datetime:
        return self.slot().end


def new_reference() -> str:
    return "BK-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def _booking(row: Any) -> Booking:
    m = row._mapping
    return Booking(
        id=m["id"],
        reference=m["reference"],
        status=m["status"],
        starts_at=utc(m["starts_at"]).astimezone(clinic_tz()),
        practitioner=m["practitioner"],
        patient_name=unseal(m["patient_name"]) or "",
        phone=unseal(m["phone"]),
        email=unseal(m["email"]),
        patient_type=m["patient_type"],
        reason=m["reason"],
        intake_summary=m["intake_summary"],
        triage_level=m["triage_level"],
        conversation_id=m["conversation_id"],
        revision=m["revision"],
    )


def _check_bookable(slot: Slot) -> None:
    """ValueError unless `slot` is one the clinic offers now (hours, notice, horizon)."""
    if slot.start.tzinfo is None:
        raise ValueError("slot start must be timezone-aware")
    window = candidate_slots(slot.start, slot.start + dt.timedelta(seconds=1))
    if slot not in window:
        raise ValueError(f"{slot.start.isoformat()} with that practitioner is not bookable")


def _clean_email(email: str | None) -> str | None:
    return email.strip().lower() if email and email.strip() else None


def _clean_phone(phone: str | None) -> str | None:
    return phone.strip() if phone and phone.strip() else None


def _reference_exists(reference: str) -> bool:
    query = select(bookings.c.id).where(bookings.c.reference == reference)
    with engine().connect() as conn:
        return conn.execute(query).first() is not None


def create_booking(
    *,
    slot: Slot,
    name: str,
    phone: str | None,
    email: str | None,
    patient_type: str,
    reason: str,
    intake_summary: str,
    triage_level: str,
    conversation_id: str,
) -> Booking:
    """Book `slot` and enqueue "booking.created" in the same transaction.

    Raises SlotTaken when the slot is held, ValueError when it is not bookable."""
    _check_bookable(slot)
    if patient_type not in PATIENT_TYPES:
        raise ValueError(f"patient_type must be one of {PATIENT_TYPES}")
    if not (phone or email):
        raise ValueError("a phone number or an email address is needed")
    now = utcnow()
    row: dict[str, Any] = {
        "status": "booked",
        "active": 1,
        "starts_at": utc(slot.start),
        "practitioner": slot.practitioner,
        "patient_name": seal(name.strip()),
        "phone": seal(_clean_phone(phone)),
        "email": seal(_clean_email(email)),
        "patient_type": patient_type,
        "reason": reason,
        "intake_summary": intake_summary,
        "triage_level": triage_level,
        "conversation_id": conversation_id[:128],
        "created_at": now,
        "updated_at": now,
    }

    def work(conn: Connection) -> Booking:
        booking_id = conn.execute(insert(bookings).values(**row)).inserted_primary_key[0]
        booking = _booking(conn.execute(select(bookings).where(bookings.c.id == booking_id)).one())
        outbox.enqueue(conn, "booking.created", booking_payload("booking.created", booking))
        return booking

    for _ in range(5):
        row["reference"] = new_reference()
        try:
            booking = write(work)
        except IntegrityError:
            if _reference_exists(row["reference"]):
                continue  # a reference collision, not a taken slot: draw another
            log.info("slot %s taken", slot.start.isoformat())
            raise SlotTaken(slot.key()) from None
        log.info("booking %s created (id %s)", booking.reference, booking.id)
        outbox.committed()
        return booking
    raise RuntimeError("could not draw an unused booking reference")


def book_or_alternatives(
    *, slot: Slot, limit: int = 3, **booking_fields: Any
) -> tuple[Booking | None, list[Slot]]:
    """(booking, []) or, when the slot was taken, (None, the nearest free alternatives)."""
    try:
        return create_booking(slot=slot, **booking_fields), []
    except SlotTaken:
        alternatives = nearest_free_slots(
            slot.start, slot.start, taken=booked_slots, limit=limit, exclude=[slot]
        )
        return None, alternatives


def _matching_row(conn: Connection, reference: str, contact: str) -> Any:
    """The active booking row with this reference whose phone or email is `contact`, else
    None. The contact columns are sealed (sealed.py), so they are compared once opened."""
    contact = (contact or "").strip()
    query = select(bookings).where(
        bookings.c.reference == (reference or "").strip().upper(), bookings.c.active == 1
    )
    row = conn.execute(query).first()
    if row is None or not contact:
        return None
    if unseal(row.phone) == contact or unseal(row.email) == contact.lower():
        return row
    return None


def booking_by_reference(reference: str) -> Booking | None:
    """The booking with this reference, booked or cancelled (its calendar file)."""
    query = select(bookings).where(bookings.c.reference == (reference or "").strip().upper())
    with engine().connect() as conn:
        row = conn.execute(query).first()
    return _booking(row) if row else None


def find_booking(reference: str, contact: str) -> Booking | None:
    """The active booking with this reference whose phone or email is `contact`, else None
    (the caller cannot tell a wrong reference from a wrong contact)."""
    if not (reference and contact and contact.strip()):
        return None
    with engine().connect() as conn:
        row = _matching_row(conn, reference, contact)
    return _booking(row) if row else None


def cancel_booking(reference: str, contact: str, *, conversation_id: str) -> Booking | None:
    """Cancel (freeing the slot) and enqueue "booking.cancelled"; None if no match."""
    if not (reference and contact and contact.strip()):
        return None

    def work(conn: Connection) -> Booking | None:
        row = _matching_row(conn, reference, contact)
        return None if row is None else cancel_row(conn, row.id, conversation_id)

    booking = write(work)
    if booking:
        log.info("booking %s cancelled", booking.reference)
        outbox.committed()
    return booking


def cancel_row(conn: Connection, booking_id: int, conversation_id: str) -> Booking | None:
    """Cancel the active booking `booking_id` in the caller's transaction, with its
    "booking.cancelled" event; None when it is not active."""
    values = {
        "status": "cancelled",
        "active": None,
        "updated_at": utcnow(),
        "revision": bookings.c.revision + 1,
    }
    changed = conn.execute(
        update(bookings).where(bookings.c.id == booking_id, bookings.c.active == 1).values(**values)
    ).rowcount
    if not changed:
        return None
    booking = _booking(conn.execute(select(bookings).where(bookings.c.id == booking_id)).one())
    payload = booking_payload("booking.cancelled", booking, conversation_id)
    outbox.enqueue(conn, "booking.cancelled", payload)
    return booking


def bookings_of(conversation_id: str, conn: Connection | None = None) -> list[Booking]:
    """Every booking a conversation made (any status), soonest first."""
    query = (
        select(bookings)
        .where(bookings.c.conversation_id == conversation_id[:128])
        .order_by(bookings.c.starts_at)
    )
    if conn is not None:
        return [_booking(row) for row in conn.execute(query)]
    with engine().connect() as own:
        return [_booking(row) for row in own.execute(query)]


def reschedule_booking(
    reference: str, contact: str, new_slot: Slot, *, conversation_id: str
) -> Booking:
    """Move a booking to `new_slot` in one transaction (the row's slot changes in place, so
    the old slot is freed exactly when the new one is claimed) and enqueue
    "booking.rescheduled". SlotTaken leaves the booking as it was; LookupError if no match."""
    _check_bookable(new_slot)

    def work(conn: Connection) -> Booking:
        row = _matching_row(conn, reference, contact)
        if row is None:
            raise LookupError("no active booking with that reference and contact")
        old = _booking(row)
        if old.slot() == new_slot:
            return old
        values = {
            "starts_at": utc(new_slot.start),
            "practitioner": new_slot.practitioner,
            "updated_at": utcnow(),
            "revision": bookings.c.revision + 1,
        }
        conn.execute(update(bookings).where(bookings.c.id == row.id).values(**values))
        booking = _booking(conn.execute(select(bookings).where(bookings.c.id == row.id)).one())
        payload = booking_payload(
            "booking.rescheduled", booking, conversation_id, previous=old.starts_at
        )
        outbox.enqueue(conn, "booking.rescheduled", payload)
        return booking

    try:
        booking = write(work)
    except IntegrityError:
        log.info("reschedule of %s: target slot taken", reference.strip().upper())
        raise SlotTaken(new_slot.key()) from None
    log.info("booking %s rescheduled", booking.reference)
    outbox.committed()
    return booking


def request_callback(
    *,
    name: str,
    phone: str | None,
    email: str | None,
    reason: str,
    intake_summary: str,
    triage_level: str,
    conversation_id: str,
) -> int:
    """Ask the clinic to call the person back: a request for staff (callbacks.py) and the
    "callback.requested" event for the clinic's system, in one transaction; the outbox id."""
    person = {"name": name.strip(), "phone": _clean_phone(phone), "email": _clean_email(email)}
    payload = {
        "conversation_id": conversation_id[:128],
        "callback": {**person, "reason": reason},
        "intake_summary": intake_summary,
        "triage_level": triage_level,
        "clinic": _clinic_name(),
    }
    details = {
        "conversation_id": conversation_id,
        "reason": reason,
        "intake_summary": intake_summary,
        "triage_level": triage_level,
    }

    def work(conn: Connection) -> int:
        insert_callback(conn, person, details)
        return outbox.enqueue(conn, "callback.requested", payload)

    outbox_id = write(work)
    log.info("callback requested (outbox %s)", outbox_id)
    outbox.committed()
    return outbox_id


def booked_slots(start: dt.datetime, end: dt.datetime) -> set[Slot]:
    """Slots held by active bookings starting in [start, end)."""
    query = select(bookings.c.starts_at, bookings.c.practitioner).where(
        bookings.c.active == 1,
        bookings.c.starts_at >= utc(start),
        bookings.c.starts_at < utc(end),
    )
    tz = clinic_tz()
    with engine().connect() as conn:
        return {Slot(utc(r.starts_at).astimezone(tz), r.practitioner) for r in conn.execute(query)}


def upcoming_bookings(limit: int = 100, since: dt.datetime | None = None) -> list[Booking]:
    """Active bookings from `since` (default now) on, soonest first: for staff."""
    query = (
        select(bookings)
        .where(bookings.c.active == 1, bookings.c.starts_at >= utc(since or utcnow()))
        .order_by(bookings.c.starts_at, bookings.c.practitioner)
        .limit(limit)
    )
    with engine().connect() as conn:
        return [_booking(row) for row in conn.execute(query)]


def count_active(slot: Slot) -> int:
    """How many active rows hold `slot` (the constraint keeps this at 0 or 1)."""
    query = select(func.count()).where(
        bookings.c.active == 1,
        bookings.c.starts_at == utc(slot.start),
        bookings.c.practitioner == slot.practitioner,
    )
    with engine().connect() as conn:
        return conn.execute(query).scalar_one()


# --- the clinic system's view of a change (the outbox event's payload) -------------------


def _clinic_name() -> str:
    return knowledge().clinic.name


def booking_payload(
    kind: str,
    booking: Booking,
    conversation_id: str | None = None,
    previous: dt.datetime | None = None,
) -> dict[str, Any]:
    """The clinic system's view of a booking event (`event`, `id`, `created_at` added on
    enqueue). `conversation_id` is the conversation that made this change."""
    payload: dict[str, Any] = {
        "conversation_id": conversation_id or booking.conversation_id,
        "booking": {
            "reference": booking.reference,
            "status": booking.status,
            "starts_at": booking.starts_at.isoformat(),
            "ends_at": booking.ends_at.isoformat(),
            "practitioner": booking.practitioner,
            "patient": {
                "name": booking.patient_name,
                "phone": booking.phone,
                "email": booking.email,
                "type": booking.patient_type,
            },
            "reason": booking.reason,
        },
        "intake_summary": booking.intake_summary,
        "triage_level": booking.triage_level,
        "clinic": _clinic_name(),
    }
    if previous is not None:
        payload["previous_starts_at"] = previous.isoformat()
    return payload
