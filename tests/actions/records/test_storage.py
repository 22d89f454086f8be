"""Bookings in the database (actions/records/bookings.py, database.py), on SQLite and on PostgreSQL.

The slots used here are real ones a few days from today, so every rule (hours, notice,
horizon) applies exactly as it does for a patient.
"""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from actions.records import bookings, database, triage_log
from actions.records.bookings import (
    SlotTaken,
    book_or_alternatives,
    cancel_booking,
    create_booking,
    find_booking,
    request_callback,
    reschedule_booking,
)
from actions.records.sealed import unseal
from clinic.availability import Slot, candidate_slots, clinic_now
from clinic.parsing import booking_answers

PHONE, EMAIL = "+15550100123", "pat@example.org"


def future_slots(days: int = 3) -> list[Slot]:
    """Bookable slots from `days` days ahead on (always a week's worth)."""
    start = clinic_now() + dt.timedelta(days=days)
    return candidate_slots(start, start + dt.timedelta(days=7))


def details(**overrides: object) -> dict[str, object]:
    fields = {
        "name": "Pat Example",
        "phone": PHONE,
        "email": "Pat@Example.org",
        "patient_type": "new",
        "reason": "low back pain for three weeks",
        "intake_summary": "Low back pain, 3 weeks, no red flags",
        "triage_level": "routine",
        "conversation_id": "conv-1",
    }
    return {**fields, **overrides}


def outbox_events(kind: str | None = None) -> list[dict]:
    query = select(database.outbox).order_by(database.outbox.c.id)
    with database.engine().connect() as conn:
        rows = list(conn.execute(query))
    return [json.loads(unseal(r.payload)) for r in rows if kind is None or r.kind == kind]


def active_rows() -> int:
    query = select(database.bookings).where(database.bookings.c.active == 1)
    with database.engine().connect() as conn:
        return len(list(conn.execute(query)))


def test_create_and_find(db_url):
    slot = future_slots()[0]
    booking = create_booking(slot=slot, **details())
    assert booking.reference.startswith("BK-") and len(booking.reference) == 9
    assert set(booking.reference[3:]) <= set(booking_answers.REFERENCE_ALPHABET)
    assert booking.status == "booked" and booking.slot() == slot
    assert (
        booking.starts_at.tzinfo is not None and str(booking.starts_at.tzinfo) == "America/Chicago"
    )
    assert booking.email == EMAIL  # stored lower-case
    assert find_booking(booking.reference, PHONE) == booking
    assert find_booking(booking.reference.lower(), EMAIL) == booking
    [event] = outbox_events("booking.created")
    assert event["booking"]["reference"] == booking.reference
    assert event["booking"]["starts_at"] == slot.start.isoformat()


def test_find_needs_both_reference_and_matching_contact(db_url):
    booking = create_booking(slot=future_slots()[0], **details())
    other = create_booking(slot=future_slots()[1], **details(phone="+15550100999", email=None))
    assert find_booking(booking.reference, "+15550100999") is None
    assert find_booking(other.reference, PHONE) is None
    assert find_booking("BK-XXXXXX", PHONE) is None
    assert find_booking(booking.reference, "") is None
    assert find_booking("", PHONE) is None


@pytest.mark.parametrize("kind", ["lunch", "past", "unaware", "beyond horizon"])
def test_only_bookable_slots_can_be_booked(db_url, kind):
    first = future_slots()[0]
    day = first.start.replace(hour=12, minute=0)
    slot = {
        "lunch": Slot(day.replace(minute=15), first.practitioner),
        "past": Slot(first.start - dt.timedelta(days=7), first.practitioner),
        "unaware": Slot(first.start.replace(tzinfo=None), first.practitioner),
        "beyond horizon": Slot(first.start + dt.timedelta(days=35), first.practitioner),
    }[kind]
    with pytest.raises(ValueError):
        create_booking(slot=slot, **details())
    assert active_rows() == 0 and outbox_events() == []


def test_cancel_frees_the_slot(db_url):
    slot = future_slots()[0]
    booking = create_booking(slot=slot, **details())
    with pytest.raises(SlotTaken):
        create_booking(slot=slot, **details(conversation_id="conv-2"))
    assert cancel_booking(booking.reference, EMAIL, conversation_id="conv-3") is not None
    assert find_booking(booking.reference, PHONE) is None
    assert cancel_booking(booking.reference, PHONE, conversation_id="conv-3") is None
    again = create_booking(slot=slot, **details(conversation_id="conv-2"))
    assert again.reference != booking.reference
    [event] = outbox_events("booking.cancelled")
    assert event["booking"]["status"] == "cancelled" and event["conversation_id"] == "conv-3"


def test_cancel_needs_matching_contact(db_url):
    booking = create_booking(slot=future_slots()[0], **details())
    assert cancel_booking(booking.reference, "+15550100999", conversation_id="x") is None
    assert find_booking(booking.reference, PHONE) is not None


def test_reschedule_moves_the_booking_and_frees_the_old_slot(db_url):
    old_slot, new_slot = future_slots()[0], future_slots()[5]
    booking = create_booking(slot=old_slot, **details())
    moved = reschedule_booking(booking.reference, PHONE, new_slot, conversation_id="conv-9")
    assert moved.reference == booking.reference and moved.slot() == new_slot
    assert bookings.count_active(old_slot) == 0 and bookings.count_active(new_slot) == 1
    [event] = outbox_events("booking.rescheduled")
    assert event["previous_starts_at"] == old_slot.start.isoformat()
    assert event["booking"]["starts_at"] == new_slot.start.isoformat()
    create_booking(slot=old_slot, **details(conversation_id="conv-2"))


def test_reschedule_to_a_taken_slot_changes_nothing(db_url):
    mine, theirs = future_slots()[0], future_slots()[2]
    booking = create_booking(slot=mine, **details())
    create_booking(slot=theirs, **details(phone="+15550100999", email=None))
    with pytest.raises(SlotTaken):
        reschedule_booking(booking.reference, PHONE, theirs, conversation_id="c")
    assert find_booking(booking.reference, PHONE).slot() == mine
    assert bookings.count_active(mine) == 1 and bookings.count_active(theirs) == 1
    assert outbox_events("booking.rescheduled") == []
    with pytest.raises(LookupError):
        reschedule_booking(
            booking.reference, "+15550100999", future_slots()[4], conversation_id="c"
        )


def _row(slot: Slot, reference: str, active: int | None) -> dict:
    now = dt.datetime.now(dt.timezone.utc)
    return {
        "reference": reference,
        "status": "booked" if active else "cancelled",
        "active": active,
        "starts_at": database.utc(slot.start),
        "practitioner": slot.practitioner,
        "patient_name": "x",
        "patient_type": "new",
        "reason": "x",
        "intake_summary": "x",
        "triage_level": "routine",
        "conversation_id": "x",
        "created_at": now,
        "updated_at": now,
    }


def test_the_database_rejects_a_second_active_booking_of_a_slot(db_url):
    slot = future_slots()[0]
    with database.engine().begin() as conn:
        conn.execute(insert(database.bookings).values(**_row(slot, "BK-AAAAAA", 1)))
        conn.execute(insert(database.bookings).values(**_row(slot, "BK-AAAAAB", None)))
        conn.execute(insert(database.bookings).values(**_row(slot, "BK-AAAAAC", None)))
    with pytest.raises(IntegrityError), database.engine().begin() as conn:
        conn.execute(insert(database.bookings).values(**_row(slot, "BK-AAAAAD", 1)))
    assert active_rows() == 1


def test_twenty_patients_racing_for_one_slot_get_one_booking(db_url):
    slot = future_slots()[0]
    barrier = threading.Barrier(20)
    results: list = []
    errors: list = []

    def patient(i: int) -> None:
        try:
            barrier.wait(timeout=20)
            results.append(book_or_alternatives(slot=slot, **details(conversation_id=f"c{i}")))
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=patient, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=50)
    assert errors == []
    booked = [b for b, _ in results if b is not None]
    refused = [alternatives for b, alternatives in results if b is None]
    assert len(booked) == 1 and len(refused) == 19
    for alternatives in refused:
        assert alternatives and slot not in alternatives
        assert len({s.start for s in alternatives}) == len(alternatives)
    assert active_rows() == 1 and bookings.count_active(slot) == 1
    assert len(outbox_events("booking.created")) == 1


def test_book_or_alternatives_books_a_free_slot(db_url):
    booking, alternatives = book_or_alternatives(slot=future_slots()[0], **details())
    assert booking is not None and alternatives == []


def test_callback_request_is_queued(db_url):
    outbox_id = request_callback(
        name="Pat Example",
        phone=PHONE,
        email=None,
        reason="wants to talk about fees",
        intake_summary="no symptoms given",
        triage_level="routine",
        conversation_id="conv-7",
    )
    [event] = outbox_events("callback.requested")
    assert outbox_id >= 1
    assert event["callback"] == {
        "name": "Pat Example",
        "phone": PHONE,
        "email": None,
        "reason": "wants to talk about fees",
    }
    assert event["conversation_id"] == "conv-7"


def test_triage_events_still_recorded(db_url):
    event_id = triage_log.record_triage_event("conv-1", "urgent", ["fever"], "I have a fever")
    assert triage_log.recent_triage_events(5)[0]["id"] == event_id
