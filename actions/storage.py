"""Persistent records: red-flag triage events, appointments and the hand-off outbox.

SQLAlchemy Core over an embedded SQLite file by default (`CLINIC_DB_PATH`, default
`var/clinic.db`), or any database `DATABASE_URL` points at (PostgreSQL in production).
Tables are created on first use.

Double booking is prevented by the database itself, not by a check-then-insert: `bookings`
has a nullable `active` column (1 while booked, NULL once cancelled) and a unique constraint
on (starts_at, practitioner, active). NULLs are distinct in unique constraints on both SQLite
and PostgreSQL, so any number of cancelled rows may share a slot while only one active row
can hold it. (A partial unique index would say the same but is spelt differently per
database; a separate claims table would need two writes per change.)

Every change to a booking writes its hand-off event to `outbox` in the same transaction, so
the clinic's system hears of exactly the bookings that exist (actions/handoff.py delivers).
Logs name references and ids only, never a patient's name, phone or email.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    event,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from actions.availability import Slot, candidate_slots, clinic_tz, nearest_free_slots
from actions.knowledge import ROOT

log = logging.getLogger(__name__)

DEFAULT_DB_PATH = ROOT / "var" / "clinic.db"

metadata = MetaData()

triage_events = Table(
    "triage_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("level", String(16), nullable=False),
    Column("flags", String(512), nullable=False),
    Column("message", Text, nullable=False),
)

bookings = Table(
    "bookings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("status", String(16), nullable=False),  # booked / cancelled
    #: 1 while booked, NULL when cancelled: the unique constraint below ignores NULL rows.
    Column("active", Integer, nullable=True),
    Column("starts_at", DateTime(timezone=True), nullable=False),  # always UTC
    Column("practitioner", String(128), nullable=False),
    Column("patient_name", String(200), nullable=False),
    Column("phone", String(32), nullable=True),  # E.164
    Column("email", String(254), nullable=True),  # lower case
    Column("patient_type", String(16), nullable=False),  # new / returning
    Column("reason", Text, nullable=False),
    Column("intake_summary", Text, nullable=False),
    Column("triage_level", String(16), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("starts_at", "practitioner", "active", name="uq_bookings_active_slot"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # JSON
    Column("status", String(16), nullable=False),  # pending / delivered
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
)


def database_url() -> str:
    """`DATABASE_URL` if set, else the SQLite file at `CLINIC_DB_PATH` (or var/clinic.db)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    path = Path(os.environ.get("CLINIC_DB_PATH") or DEFAULT_DB_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@functools.cache
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True, connect_args={"timeout": 30})
        _serialise_sqlite_writes(engine)
    else:
        engine = create_engine(url, future=True, pool_pre_ping=True, pool_size=10)
    metadata.create_all(engine)
    return engine


def _serialise_sqlite_writes(engine: Engine) -> None:
    """Open every SQLite transaction with BEGIN IMMEDIATE.

    pysqlite's default deferred transactions let two writers both read and then fail to
    upgrade their locks ("database is locked" at once, no busy wait). Taking the write lock
    up front makes concurrent writers queue on the 30 s busy timeout instead."""

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def engine() -> Engine:
    return _engine_for(database_url())


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


# --- time helpers ---------------------------------------------------------------------------


def utc(value: dt.datetime) -> dt.datetime:
    """`value` as aware UTC; naive values (how SQLite returns them) are UTC already.

    Every timestamp is written in UTC so that SQLite's text columns compare and collide
    (unique constraint) exactly as PostgreSQL's timestamptz do."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- transactions ---------------------------------------------------------------------------

T = TypeVar("T")


def write(work: Callable[[Connection], T], attempts: int = 5) -> T:
    """Run `work` in one transaction, retrying when SQLite still reports a lock."""
    for attempt in range(attempts):
        try:
            with engine().begin() as conn:
                return work(conn)
        except OperationalError as exc:
            if "locked" not in str(exc).lower() or attempt == attempts - 1:
                raise
            log.warning("database locked, retrying (attempt %d)", attempt + 1)
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


# --- bookings -------------------------------------------------------------------------------

REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
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
        patient_name=m["patient_name"],
        phone=m["phone"],
        email=m["email"],
        patient_type=m["patient_type"],
        reason=m["reason"],
        intake_summary=m["intake_summary"],
        triage_level=m["triage_level"],
        conversation_id=m["conversation_id"],
    )


def _check_bookable(slot: Slot) -> None:
    """ValueError unless `slot` is one the clinic offers now (hours, notice, horizon)."""
    if slot.start.tzinfo is None:
        raise ValueError("slot start must be timezone-aware")
    window = candidate_slots(slot.start, slot.start + dt.timedelta(seconds=1))
    if slot not in window:
        raise ValueError(f"{slot.start.isoformat()} with that practitioner is not bookable")


def _enqueue(conn: Connection, kind: str, payload: dict[str, Any]) -> int:
    from actions import handoff  # handoff imports this module

    return handoff.enqueue(conn, kind, payload)


def _after_commit() -> None:
    from actions import handoff

    handoff.nudge()


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
    from actions import handoff

    _check_bookable(slot)
    if patient_type not in PATIENT_TYPES:
        raise ValueError(f"patient_type must be one of {PATIENT_TYPES}")
    if not (phone or email):
        raise ValueError("a phone number or an email address is needed")
    now = utcnow()
    row = {
        "status": "booked",
        "active": 1,
        "starts_at": utc(slot.start),
        "practitioner": slot.practitioner,
        "patient_name": name.strip(),
        "phone": _clean_phone(phone),
        "email": _clean_email(email),
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
        _enqueue(conn, "booking.created", handoff.booking_payload("booking.created", booking))
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
        _after_commit()
        return booking
    raise RuntimeError("could not draw an unused booking reference")


def book_or_alternatives(
    *, slot: Slot, limit: int = 3, **booking_fields: Any
) -> tuple[Booking | None, list[Slot]]:
    """(booking, []) or, when the slot was taken, (None, the nearest free alternatives)."""
    try:
        return create_booking(slot=slot, **booking_fields), []
    except SlotTaken:
        alternatives = nearest_free_slots(slot.start, slot.start, limit=limit, exclude=[slot])
        return None, alternatives


def _match(reference: str, contact: str):
    """The WHERE clause of an active booking with this reference and contact."""
    contact = (contact or "").strip()
    return and_(
        bookings.c.reference == (reference or "").strip().upper(),
        bookings.c.active == 1,
        or_(bookings.c.phone == contact, bookings.c.email == contact.lower()),
    )


def find_booking(reference: str, contact: str) -> Booking | None:
    """The active booking with this reference whose phone or email is `contact`, else None
    (the caller cannot tell a wrong reference from a wrong contact)."""
    if not (reference and contact and contact.strip()):
        return None
    with engine().connect() as conn:
        row = conn.execute(select(bookings).where(_match(reference, contact))).first()
    return _booking(row) if row else None


def cancel_booking(reference: str, contact: str, *, conversation_id: str) -> Booking | None:
    """Cancel (freeing the slot) and enqueue "booking.cancelled"; None if no match."""
    from actions import handoff

    if not (reference and contact and contact.strip()):
        return None

    def work(conn: Connection) -> Booking | None:
        row = conn.execute(select(bookings).where(_match(reference, contact))).first()
        if row is None:
            return None
        values = {"status": "cancelled", "active": None, "updated_at": utcnow()}
        changed = conn.execute(
            update(bookings).where(bookings.c.id == row.id, bookings.c.active == 1).values(**values)
        ).rowcount
        if not changed:
            return None
        booking = _booking(conn.execute(select(bookings).where(bookings.c.id == row.id)).one())
        payload = handoff.booking_payload("booking.cancelled", booking, conversation_id)
        _enqueue(conn, "booking.cancelled", payload)
        return booking

    booking = write(work)
    if booking:
        log.info("booking %s cancelled", booking.reference)
        _after_commit()
    return booking


def reschedule_booking(
    reference: str, contact: str, new_slot: Slot, *, conversation_id: str
) -> Booking:
    """Move a booking to `new_slot` in one transaction (the row's slot changes in place, so
    the old slot is freed exactly when the new one is claimed) and enqueue
    "booking.rescheduled". SlotTaken leaves the booking as it was; LookupError if no match."""
    from actions import handoff

    _check_bookable(new_slot)

    def work(conn: Connection) -> Booking:
        row = conn.execute(select(bookings).where(_match(reference, contact))).first()
        if row is None:
            raise LookupError("no active booking with that reference and contact")
        old = _booking(row)
        if old.slot() == new_slot:
            return old
        values = {
            "starts_at": utc(new_slot.start),
            "practitioner": new_slot.practitioner,
            "updated_at": utcnow(),
        }
        conn.execute(update(bookings).where(bookings.c.id == row.id).values(**values))
        booking = _booking(conn.execute(select(bookings).where(bookings.c.id == row.id)).one())
        payload = handoff.booking_payload(
            "booking.rescheduled", booking, conversation_id, previous=old.starts_at
        )
        _enqueue(conn, "booking.rescheduled", payload)
        return booking

    try:
        booking = write(work)
    except IntegrityError:
        log.info("reschedule of %s: target slot taken", reference.strip().upper())
        raise SlotTaken(new_slot.key()) from None
    log.info("booking %s rescheduled", booking.reference)
    _after_commit()
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
    """Ask the clinic to call the person back: enqueues "callback.requested"; the outbox id."""
    from actions import handoff

    payload = handoff.callback_payload(
        name=name.strip(),
        phone=_clean_phone(phone),
        email=_clean_email(email),
        reason=reason,
        intake_summary=intake_summary,
        triage_level=triage_level,
        conversation_id=conversation_id[:128],
    )
    outbox_id = write(lambda conn: _enqueue(conn, "callback.requested", payload))
    log.info("callback requested (outbox %s)", outbox_id)
    _after_commit()
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


def iter_tables() -> Iterator[Table]:
    """Tables, children first: for tests that empty a database."""
    return reversed(metadata.sorted_tables)
