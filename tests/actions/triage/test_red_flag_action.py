"""The red-flag triage action: what a patient is told for each route (emergency, same day,
crisis, maternity), the slots it sets, the form it ends, the record kept for staff, and a
later message completing an earlier flag. The detector itself is tested in
tests/clinic/test_red_flags.py."""

from __future__ import annotations

import pytest

from clinic.red_flags import red_flags_in


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A throwaway SQLite file for triage records."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CLINIC_DB_PATH", str(tmp_path / "clinic.db"))
    return tmp_path / "clinic.db"


def triage(text, slots=None, active_loop=None):
    from actions.triage.red_flag import ActionTriageRedFlag
    from tests.helpers import make_tracker, run_action

    hits = [h.as_dict() for h in red_flags_in(text)]
    tracker = make_tracker(text, [], slots or {}, "red_flag")
    tracker.latest_message["red_flags"] = hits
    if active_loop:
        tracker.active_loop = {"name": active_loop}
    return run_action(ActionTriageRedFlag(), tracker)


def slot_values(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def test_emergency_reply_names_the_number_and_offers_no_booking(kb, database):
    messages, events = triage("I've lost control of my bladder and my back is agony")
    text = "\n".join(m["text"] for m in messages)
    assert kb.clinic.emergency_number in text
    assert kb.red_flags["bladder_bowel"].reason in text
    assert all(not m.get("buttons") for m in messages)  # no routine booking as the answer
    assert "book" not in text.lower()
    assert slot_values(events)["triage_level"] == "emergency"
    assert slot_values(events)["red_flags"] == ["bladder_bowel"]


def test_urgent_reply_gives_the_same_day_route(kb, database):
    messages, events = triage("I've had a high temperature for two days with this back pain")
    text = "\n".join(m["text"] for m in messages)
    assert kb.clinic.urgent_care in text
    assert kb.clinic.emergency_number not in text.split(".")[0]
    assert slot_values(events)["triage_level"] == "urgent"


def test_crisis_reply_gives_the_crisis_line(kb, database):
    messages, _ = triage("honestly I just want to die")
    assert kb.clinic.crisis_line in messages[0]["text"]


def test_a_red_flag_ends_any_form_and_keeps_the_highest_level(database):
    _, events = triage(
        "I've got a fever", slots={"triage_level": "emergency"}, active_loop="appointment_form"
    )
    assert {"event": "active_loop", "name": None, "timestamp": None} in events
    assert slot_values(events)["requested_slot"] is None
    assert slot_values(events)["triage_level"] == "emergency"


def test_the_event_is_recorded_for_staff(database):
    from actions.records.triage_log import recent_triage_events

    triage("both my legs have gone numb")
    latest = recent_triage_events(1)[0]
    assert latest["level"] == "emergency"
    assert latest["flags"] == "bilateral_legs"
    assert latest["message"] == "both my legs have gone numb"
    assert database.exists()


def test_a_database_failure_does_not_cost_the_urgent_reply(kb, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:9/none")
    messages, _ = triage("I can't pee")
    assert kb.clinic.emergency_number in messages[0]["text"]


def test_booking_after_a_red_flag_reminds_to_see_a_doctor_first(kb):
    from actions.booking.appointment import ActionPrepareBooking
    from tests.helpers import make_tracker, run_action

    messages, _ = run_action(
        ActionPrepareBooking(), make_tracker("book me in", [], {"triage_level": "urgent"})
    )
    assert messages[0]["text"].startswith("Because of what you mentioned earlier")
    assert kb.clinic.urgent_care in messages[0]["text"]


def test_staff_command_lists_recorded_red_flags(database, capsys):
    from scripts.staff import main

    assert main(["triage"]) == 0
    assert "No red flags recorded" in capsys.readouterr().out
    triage("I fell off a ladder this morning and my back is agony")
    assert main(["triage", "--limit", "5"]) == 0
    out = capsys.readouterr().out
    assert "EMERGENCY" in out and "major_trauma" in out and "fell off a ladder" in out


# --- the clinical review's new signs: blood clots, pregnancy, advice -------------------------


def test_maternity_reply_sends_to_the_midwife_first(kb, database):
    messages, events = triage("I'm 32 weeks pregnant and my back aches and comes in waves")
    text = messages[0]["text"]
    assert text.startswith("Please call your midwife")
    assert kb.red_flags["pregnancy_back_pain"].reason in text
    assert kb.clinic.emergency_number in text  # lost feeling: the emergency number
    assert slot_values(events)["triage_level"] == "urgent"


def test_a_swollen_calf_with_breathlessness_is_an_emergency(kb, database):
    messages, events = triage("My calf is swollen and red. Now I'm short of breath too.")
    text = messages[0]["text"]
    assert kb.red_flags["blood_clot_lungs"].reason in text
    assert kb.clinic.emergency_number in text
    assert kb.red_flags["blood_clot"].reason not in text  # covered by the emergency answer
    assert slot_values(events)["triage_level"] == "emergency"


def test_advice_goes_with_a_same_day_reply_but_not_an_emergency(kb, database):
    same_day, _ = triage("I'm 70, I have a fever and my back hurts")
    texts = [m["text"] for m in same_day]
    assert any(kb.red_flags["age_new_pain"].reason in t for t in texts)
    emergency, _ = triage("I'm 70 and I've lost control of my bladder, my back hurts")
    assert not any(kb.red_flags["age_new_pain"].reason in m["text"] for m in emergency)


def test_a_later_message_can_complete_an_earlier_red_flag(kb, database):
    """Breathlessness after a swollen calf (`escalates`), with the same negation and context
    rules: "no shortness of breath" or someone else's breathlessness does not count."""
    from actions.triage.red_flag import ActionTriageRedFlag
    from clinic.red_flags import escalations
    from tests.helpers import make_tracker, run_action

    earlier = ["blood_clot"]
    assert [h.id for h in escalations("also I'm a bit short of breath", earlier)] == [
        "blood_clot_lungs"
    ]
    assert escalations("no shortness of breath though", earlier) == []
    assert escalations("my husband is short of breath", earlier) == []
    assert escalations("also I'm a bit short of breath", ["fever_infection"]) == []
    tracker = make_tracker("also I'm a bit short of breath", [], {"red_flags": earlier})
    messages, events = run_action(ActionTriageRedFlag(), tracker)
    assert kb.red_flags["blood_clot_lungs"].reason in messages[0]["text"]
    assert slot_values(events)["triage_level"] == "emergency"
    assert slot_values(events)["red_flags"] == ["blood_clot", "blood_clot_lungs"]
