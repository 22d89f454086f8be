"""'Delete my data' and 'what do you know about me?' in whole conversations, through the
trained model, the real action server and the tracker store `make run` uses: asked first,
"no" keeps everything, "yes" cancels the future visit, clears the records and deletes the
conversation itself; a booking in progress is left for it; a red flag still comes first."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

pytestmark = pytest.mark.model


def texts(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def stored(chat):
    return asyncio.run(chat.agent.tracker_store.retrieve(chat.sender))


def book(chat) -> str:
    """A first visit booked in this conversation; its reference."""
    chat("my lower back hurts, about 2 weeks now")
    chat("can I book an appointment?")
    chat("first visit")
    chat("as soon as possible")
    chat("the first one")
    chat("Robin Quayle")
    chat("robin.quayle@example.org")
    done = texts(chat("yes"))
    reference = chat.slot("last_booking_reference")
    assert reference and reference in done
    return reference


def booking_row(action_db, reference: str):
    with sqlite3.connect(action_db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM bookings WHERE reference = ?", (reference,)).fetchone()


def test_no_keeps_everything_and_what_is_known_is_listed(chat):
    reference = book(chat)
    ask = chat("please delete my data")
    assert reference in texts(ask) and "cancelled first" in texts(ask)
    assert [b["payload"] for b in ask[-1]["buttons"]] == ["/affirm", "/deny"]
    assert "haven't deleted anything" in texts(chat("no"))
    known = texts(chat("what do you know about me?"))
    for part in ("Robin Quayle", "robin.quayle@example.org", reference, "2 weeks"):
        assert part in known
    assert stored(chat) is not None


def test_yes_cancels_the_visit_clears_the_records_and_deletes_the_conversation(chat, action_db):
    reference = book(chat)
    assert "Shall I go ahead?" in texts(chat("forget everything about me"))
    done = texts(chat("yes"))
    assert f"({reference})" in done and "deleted this conversation" in done
    row = booking_row(action_db, reference)
    assert (row["status"], row["patient_name"], row["email"]) == ("cancelled", "", None)
    assert row["conversation_id"] == "forgotten"
    assert stored(chat) is None  # no row of the conversation is left
    # The next message starts afresh: nothing said before is known.
    again = texts(chat("what do you know about me"))
    assert "Robin" not in again and "Nothing about you is stored yet" in again


def test_a_booking_in_progress_gives_way_and_nothing_is_booked(chat, action_db):
    chat("I'd like to book an appointment for sciatica")
    chat("been before")
    chat("next week")
    chat("the first one")
    assert "Shall I go ahead?" in texts(chat("actually delete my data"))
    assert "deleted this conversation" in texts(chat("yes"))
    assert stored(chat) is None
    with sqlite3.connect(action_db) as conn:
        query = "SELECT COUNT(*) FROM bookings WHERE conversation_id = ?"
        assert conn.execute(query, (chat.sender,)).fetchone()[0] == 0


def test_a_red_flag_at_the_question_comes_first_and_nothing_is_deleted(chat, kb):
    chat("my back has hurt for a week")
    chat("delete my data")
    urgent = texts(chat("I suddenly can't control my bladder and my groin is numb"))
    assert kb.clinic.emergency_number in urgent
    assert "deleted" not in urgent
    assert stored(chat) is not None


def test_a_change_of_mind_mid_booking_carries_on_with_the_booking(chat):
    chat("can I book for my sciatica")
    chat("first visit")
    chat("as soon as possible")
    chat("the first one")
    assert chat.slot("requested_slot") == "patient_name"
    chat("hold on, delete my data")
    back = texts(chat("no"))
    assert "carry on" in back and "name" in back
    assert chat.slot("requested_slot") == "patient_name"
    chat("Robin Quayle")
    assert chat.slot("patient_name") == "Robin Quayle"
