"""Forgetting a person on request (actions/records/forget.py): their future appointment is
cancelled and the clinic told, every record of theirs loses the name, contact details and
their words, other people's records stay, and only the fact of a deletion is noted; on
SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from actions.records import database
from actions.records.callbacks import list_callbacks
from actions.records.forget import FORGOTTEN, forget, future_bookings, stored_for
from actions.records.sealed import unseal
from actions.records.triage_log import record_triage_event
from tests.actions.records.samples import NAME, book, call_back, future_slots

OTHER = "Pat Other"


def rows(table) -> list:
    with database.engine().connect() as conn:
        return list(conn.execute(select(table).order_by(table.c.id)))


def handoffs() -> list[tuple[str, str, dict]]:
    return [(r.kind, r.status, json.loads(unseal(r.payload))) for r in rows(database.outbox)]


def test_what_is_stored_for_a_conversation(db_url) -> None:
    book(future_slots()[0], "me")
    call_back("me")
    call_back("someone-else", OTHER)
    record_triage_event("me", "urgent", ["saddle_numbness"], "numb between my legs")
    stored = stored_for("me")
    assert [b.patient_name for b in stored.bookings] == [NAME]
    assert [c.patient_name for c in stored.callbacks] == [NAME]
    assert stored.red_flag_notes == 1
    assert [b.conversation_id for b in future_bookings("me")] == ["me"]


def test_forgetting_cancels_the_future_visit_first_and_clears_every_record(db_url) -> None:
    mine = book(future_slots()[0], "me")
    theirs = book(future_slots()[1], "someone-else", OTHER)
    call_back("me")
    call_back("someone-else", OTHER)
    record_triage_event("me", "urgent", ["saddle_numbness"], "numb between my legs")

    done = forget("me", "rest")

    assert [b.reference for b in done.cancelled] == [mine.reference]
    assert (done.bookings_cleared, done.callbacks_cleared, done.red_flag_notes) == (1, 1, 1)
    booking_rows = {r.reference: r for r in rows(database.bookings)}
    gone = booking_rows[mine.reference]
    assert (gone.status, gone.active) == ("cancelled", None)  # the slot is free again
    assert (gone.patient_name, gone.phone, gone.email) == ("", None, None)
    assert (gone.reason, gone.intake_summary, gone.conversation_id) == ("", "", FORGOTTEN)
    assert (gone.triage_level, gone.practitioner) == ("routine", mine.practitioner)
    kept = booking_rows[theirs.reference]
    assert unseal(kept.patient_name) == OTHER and kept.status == "booked"
    assert [(c.patient_name, c.status) for c in list_callbacks(include_done=True)] == [
        ("", "withdrawn"),
        (OTHER, "open"),
    ]
    [note] = rows(database.triage_events)
    assert (note.message, note.conversation_id, note.level) == ("", FORGOTTEN, "urgent")


def test_the_clinic_hears_of_the_cancellation_but_no_hand_off_names_the_person(db_url) -> None:
    mine = book(future_slots()[0], "me")
    call_back("me")
    call_back("someone-else", OTHER)
    forget("me", "telegram")
    events = handoffs()
    kinds = [(kind, payload.get("conversation_id")) for kind, _, payload in events]
    # The pending call-back request is dropped: nobody is to call a person who left.
    assert kinds == [
        ("booking.created", FORGOTTEN),
        ("callback.requested", "someone-else"),
        ("booking.cancelled", FORGOTTEN),
    ]
    cancelled = events[-1][2]["booking"]
    assert cancelled["reference"] == mine.reference and cancelled["status"] == "cancelled"
    for kind, _, payload in events:
        text = json.dumps(payload, ensure_ascii=False)
        assert NAME not in text and "back pain" not in text.lower()
        assert (OTHER in text) == (kind == "callback.requested")  # the other person's stays


def test_a_past_visit_is_cleared_but_not_cancelled(db_url) -> None:
    past = book(future_slots()[0], "me")
    later = past.starts_at + dt.timedelta(days=1)
    done = forget("me", "rest", now=later.astimezone(dt.timezone.utc))
    assert done.cancelled == [] and done.bookings_cleared == 1
    [row] = rows(database.bookings)
    assert row.status == "booked" and row.patient_name == ""


def test_only_the_fact_of_a_deletion_is_recorded(db_url) -> None:
    book(future_slots()[0], "me")
    forget("me", "twilio")
    forget("nobody", "")
    first, second = rows(database.deletions)
    assert (first.channel, first.bookings_cleared, first.bookings_cancelled) == ("twilio", 1, 1)
    assert (second.channel, second.bookings_cleared, second.callbacks_cleared) == ("unknown", 0, 0)
    assert set(first._mapping) == {
        "id",
        "created_at",
        "channel",
        "bookings_cleared",
        "bookings_cancelled",
        "callbacks_cleared",
    }


def test_a_copy_of_the_database_file_no_longer_holds_their_words(tmp_path, monkeypatch) -> None:
    """The red-flag note kept the person's words in clear; the file is overwritten, not
    just unlinked from them (SQLite's secure_delete)."""
    path = tmp_path / "clinic.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    record_triage_event("me", "urgent", ["saddle_numbness"], "numb between my legs")
    assert b"numb between my legs" in path.read_bytes()
    forget("me", "rest")
    assert b"numb between my legs" not in path.read_bytes()
