"""Symptom check and intake on real trackers: what a description is read as, what it is
linked to (never as a diagnosis), which intake questions remain, and how answers validate."""

from __future__ import annotations

import pytest
from conftest import make_tracker, run_action

from actions.answers import wording
from actions.forms import NOT_GIVEN, form_wording
from actions.symptom_check import (
    ActionIntakeSummary,
    ActionSymptomCheck,
    ValidateIntakeForm,
    intake_plan,
    parse_duration,
    parse_severity,
    parse_triggers,
    rank_conditions,
    read_description,
)

NOT_A_DIAGNOSIS = wording()["templates"]["not_a_diagnosis"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("about 3 weeks", "3 weeks"),
        ("a couple of months", "a couple of months"),
        ("two days now", "2 days"),
        ("since last tuesday", "since last tuesday"),
        ("on and off for 2 years", "on and off for 2 years"),
        ("1 week", "1 week"),
        ("since yesterday", "since yesterday"),
        ("dunno really", None),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("7", 7), ("about a 6/10", 6), ("8 out of 10 at its worst", 8), ("eight", 8), ("bad", None)],
)
def test_severities(text, expected):
    assert parse_severity(text) == expected


def test_triggers_by_clause():
    assert parse_triggers("worse when I sit or cough, but walking helps") == {
        "worse": ["coughing", "sitting"],
        "better": ["walking"],
    }


def test_a_description_is_read_with_negation(kb):
    d = read_description(
        "shooting pain down the back of my right thigh into my calf when I cough, "
        "for about 3 weeks, no numbness",
        kb,
    )
    assert "pain_down_leg" in d.symptoms and "numbness" not in d.symptoms
    assert "numbness" in d.absent
    assert d.answers["intake_travel"] == "down to the calf"
    assert d.answers["intake_duration"] == "3 weeks"
    assert d.answers["intake_triggers"] == "worse: coughing"
    assert intake_plan(d.answers) == ["intake_location", "intake_severity"]


def test_common_problems_rank_before_rarer_ones(kb):
    ranked = rank_conditions(["pain_after_lifting", "muscle_spasms"], kb)
    assert ranked[0].condition == "muscle_strain"
    assert ranked[0].symptoms == ["pain_after_lifting", "muscle_spasms"]


def test_symptom_check_names_symptoms_links_and_offers_an_exam(kb):
    text = "I've had lower back pain for 2 weeks that spreads into my buttock, worse when sitting"
    messages, events = run_action(
        ActionSymptomCheck(), make_tracker(text, [], {}, "describe_symptoms")
    )
    answer = "\n".join(m["text"] for m in messages)
    assert "low back pain" in answer.lower()
    for link in rank_conditions(read_description(text, kb).symptoms, kb):
        assert kb.conditions[link.condition].name in answer
    assert NOT_A_DIAGNOSIS in answer
    assert [b["payload"] for b in messages[-1]["buttons"]] == [
        "/affirm",
        "/deny",
        "/request_appointment",
    ]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["intake_duration"] == "2 weeks"
    assert slots["triage_level"] == "routine"
    assert slots["intake_plan"] == intake_plan(read_description(text, kb).answers)
    assert "How long: 2 weeks" in slots["intake_summary"]


def test_a_description_without_symptoms_asks_for_more():
    messages, events = run_action(
        ActionSymptomCheck(), make_tracker("it's my back", [], {}, "describe_symptoms")
    )
    assert messages[0]["text"] == wording()["templates"]["check_nothing_found"]
    assert {"event": "slot", "name": "intake_plan", "value": [], "timestamp": None} in events


def test_symptom_check_keeps_a_higher_triage_level():
    _, events = run_action(
        ActionSymptomCheck(),
        make_tracker(
            "sharp pain in my lower back", [], {"triage_level": "urgent"}, "describe_symptoms"
        ),
    )
    assert not [e for e in events if e.get("name") == "triage_level"]


# --- the intake form ----------------------------------------------------------------------


def form_tracker(slot, answer, slots=None):
    tracker = make_tracker(answer, [], {"requested_slot": slot, **(slots or {})}, "inform")
    tracker.active_loop = {"name": "intake_form"}
    tracker.events.append({"event": "slot", "name": slot, "value": answer})
    tracker.slots[slot] = answer
    return tracker


DOMAIN = {
    "forms": {"intake_form": {"required_slots": [
        "intake_location", "intake_travel", "intake_duration", "intake_severity",
        "intake_triggers"]}},
    "slots": {s: {"type": "text", "mappings": [{"type": "from_text"}]} for s in [
        "intake_location", "intake_travel", "intake_duration", "intake_severity",
        "intake_triggers"]},
}  # fmt: skip


def validate(slot, answer, slots=None):
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = asyncio.run(
        ValidateIntakeForm().run(dispatcher, form_tracker(slot, answer, slots), DOMAIN)
    )
    values = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    return dispatcher.messages, values


@pytest.mark.parametrize(
    "slot, answer, stored",
    [
        ("intake_severity", "about a 7/10", "7/10"),
        ("intake_duration", "since monday", "since monday"),
        ("intake_travel", "all the way down to my toes", "down to the toes"),
        ("intake_travel", "no it stays in my back", "stays in the back"),
        ("intake_location", "lower back, left side mostly", "lower back (left side)"),
        (
            "intake_triggers",
            "sitting makes it worse, walking helps",
            "worse: sitting; better: walking",
        ),
        ("intake_severity", "skip", NOT_GIVEN),
        ("intake_location", "I'd rather not say", NOT_GIVEN),
    ],
)
def test_intake_answers_are_normalised(slot, answer, stored):
    messages, values = validate(slot, answer)
    assert values[slot] == stored and messages == []


def test_a_failed_answer_is_explained_then_given_up_on():
    explain = form_wording()["forms"]["intake_form"]["intake_severity"]["explain"]
    messages, values = validate("intake_severity", "pretty bad honestly")
    assert values["intake_severity"] is None
    assert [m["text"] for m in messages] == [explain]
    assert values["form_failures"] == {"intake_severity": 1}
    messages, values = validate(
        "intake_severity", "really bad", {"form_failures": values["form_failures"]}
    )
    assert values["intake_severity"] == NOT_GIVEN  # skippable: the form moves on
    assert "call us on" in messages[0]["text"]


def test_only_the_planned_questions_are_asked():
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    tracker = make_tracker("yes", [], {"intake_plan": ["intake_location", "intake_severity"]})
    slots = asyncio.run(
        ValidateIntakeForm().required_slots(
            DOMAIN["forms"]["intake_form"]["required_slots"],
            CollectingDispatcher(),
            tracker,
            DOMAIN,
        )
    )
    assert slots == ["intake_location", "intake_severity"]


def test_intake_summary_collects_the_answers(kb):
    slots = {
        "symptoms": ["pain_down_leg"],
        "intake_location": "lower back (right side)",
        "intake_travel": "down to the calf",
        "intake_severity": "6/10",
    }
    messages, events = run_action(ActionIntakeSummary(), make_tracker("", [], slots))
    summary = {e["name"]: e["value"] for e in events if e["event"] == "slot"}["intake_summary"]
    assert summary.splitlines() == [
        "Symptoms mentioned: pain down the leg",
        "Where: lower back (right side)",
        "Travels: down to the calf",
        "Severity: 6/10",
    ]
    assert summary in messages[0]["text"]
    assert messages[0]["buttons"][0]["payload"] == "/request_appointment"
