"""A patient and bookable slots for the records' tests (not a test module)."""

from __future__ import annotations

import datetime as dt

from actions.records.bookings import Booking, create_booking, request_callback
from clinic.availability import Slot, candidate_slots, clinic_now

#: A name with an accent and an apostrophe, so encoding and escaping are exercised too.
NAME, PHONE, EMAIL = "Zoë O'Brien", "+15550100123", "zoe@example.org"


def future_slots(days: int = 3) -> list[Slot]:
    """Bookable slots from `days` days ahead on (a week's worth)."""
    start = clinic_now() + dt.timedelta(days=days)
    return candidate_slots(start, start + dt.timedelta(days=7))


def book(slot: Slot | None = None, conversation_id: str = "conv-1", name: str = NAME) -> Booking:
    """The sample patient's booking of `slot` (the first bookable one by default)."""
    return create_booking(
        slot=slot or future_slots()[0],
        name=name,
        phone=PHONE,
        email=EMAIL,
        patient_type="new",
        reason="low back pain",
        intake_summary="Low back pain, 3 weeks",
        triage_level="routine",
        conversation_id=conversation_id,
    )


def call_back(conversation_id: str = "conv-1", name: str = NAME) -> int:
    """The sample patient's call-back request; its outbox id."""
    return request_callback(
        name=name,
        phone=PHONE,
        email=EMAIL,
        reason="sciatica",
        intake_summary="Pain down the left leg",
        triage_level="routine",
        conversation_id=conversation_id,
    )
