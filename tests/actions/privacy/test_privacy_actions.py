"""'Delete my data' and 'what do you know about me?' (actions/privacy/) against a real
records database: what the person is told before and after, and what is changed."""

from __future__ import annotations

import pytest

from actions.privacy.forget import ActionAskForgetConfirmed, ActionForgetMe, interrupted_form
from actions.privacy.stored import ActionTellStoredData
from actions.records.forget import stored_for
from actions.records.triage_log import record_triage_event
from tests.actions.records.samples import NAME, PHONE, book, call_back
from tests.helpers import make_tracker, run_action

SENDER = "test"  # make_tracker's conversation id


@pytest.fixture
def booked(db_url):
    return book(conversation_id=SENDER)


def tracker(**slots):
    base = {"clinic_name": "Riverside", "patient_name": None, "conversation_forgotten": None}
    return make_tracker("delete my data", slots={**base, **slots}, intent="forget_me")


def test_the_question_names_the_appointment_that_will_be_cancelled(booked) -> None:
    [message], events = run_action(ActionAskForgetConfirmed(), tracker())
    assert booked.reference in message["text"] and "cancelled first" in message["text"]
    assert booked.slot().label() in message["text"]
    assert "this conversation (1 message) will be deleted" in message["text"]
    assert [b["payload"] for b in message["buttons"]] == ["/affirm", "/deny"]
    assert events == []


def test_no_keeps_everything(booked) -> None:
    [message], events = run_action(ActionForgetMe(), tracker(forget_confirmed=False))
    assert "haven't deleted anything" in message["text"]
    assert stored_for(SENDER).bookings[0].patient_name == NAME
    assert {"event": "slot", "name": "conversation_forgotten", "value": True} not in [
        {k: e.get(k) for k in ("event", "name", "value")} for e in events
    ]


def test_yes_cancels_clears_and_marks_the_conversation_for_deletion(booked) -> None:
    call_back(SENDER)
    slots = {"forget_confirmed": True, "patient_name": NAME, "patient_phone": PHONE}
    [message], events = run_action(ActionForgetMe(), tracker(**slots))
    text = message["text"]
    assert f"cancelled your appointment on {booked.slot().label()} ({booked.reference})" in text
    assert "deleted this conversation" in text and "call-back request" in text
    assert NAME not in text and PHONE not in text
    stored = stored_for(SENDER)
    assert stored.bookings == [] and stored.callbacks == []  # nothing under this id any more
    values = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert values["conversation_forgotten"] is True
    assert values["patient_name"] is None and values["forget_confirmed"] is None
    assert "clinic_name" not in values  # the clinic's own details stay for the next reply


def test_what_is_known_lists_the_details_and_the_booking(booked) -> None:
    slots = {"patient_name": NAME, "patient_phone": PHONE, "case": {"duration": "3 weeks"}}
    [message], _ = run_action(ActionTellStoredData(), tracker(**slots))
    text = message["text"]
    for part in (NAME, PHONE, booked.reference, "3 weeks", "1 message", "delete my data"):
        assert part in text


def test_nothing_known_yet(db_url) -> None:
    [message], _ = run_action(ActionTellStoredData(), tracker())
    assert "Nothing about you is stored yet" in message["text"]


def test_the_question_names_the_red_flag_note(db_url) -> None:
    record_triage_event(SENDER, "emergency", ["cauda_equina"], "can't control my bladder")
    [message], _ = run_action(ActionAskForgetConfirmed(), tracker())
    assert "warning signs" in message["text"]


def test_no_picks_up_the_booking_that_was_under_way(db_url) -> None:
    """The person asked mid-booking and then changed their mind: the form goes on."""
    t = tracker(forget_confirmed=False)
    t.events = [
        {"event": "active_loop", "name": "appointment_form"},
        {
            "event": "user",
            "text": "delete my data",
            "parse_data": {"intent": {"name": "forget_me"}},
        },
        {"event": "active_loop", "name": None},
        {"event": "active_loop", "name": "forget_form"},
        {"event": "user", "text": "no", "parse_data": {"intent": {"name": "deny"}}},
        {"event": "active_loop", "name": None},
    ]
    [message], events = run_action(ActionForgetMe(), t)
    assert "carry on" in message["text"]
    assert {"event": "followup", "name": "appointment_form"} in [
        {k: e.get(k) for k in ("event", "name")} for e in events
    ]
    assert interrupted_form(tracker()) is None  # asked with no form under way


def test_a_database_that_is_down_deletes_nothing_and_says_so(monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://clinic@127.0.0.1:9/nowhere")
    [message], events = run_action(ActionForgetMe(), tracker(forget_confirmed=True))
    assert "nothing has been deleted" in message["text"]
    assert all(e.get("name") != "conversation_forgotten" for e in events)
    [message], _ = run_action(ActionTellStoredData(), tracker(patient_name=NAME))
    assert NAME in message["text"]  # what the conversation itself holds is still told
