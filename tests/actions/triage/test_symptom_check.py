"""The symptom check on real trackers and the case it builds: what a piece of a story is
read as (alone and against the question just asked), what it is linked to (never as a
diagnosis), which question comes next, and the summary handed to a booking."""

from __future__ import annotations

import pytest

from actions.chat import wording
from actions.triage.symptom_check import ActionSymptomCheck, case_turn, rank_conditions
from clinic.intake.case import Case, next_question, read_answer, read_piece, short_reason, summary
from clinic.intake.reading import (
    mentions_case_details,
    parse_duration,
    parse_onset,
    parse_severity,
    parse_side,
    parse_triggers,
    vocabulary,
)
from tests.helpers import make_tracker, run_action

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
        ("on and off for about 8 months", "on and off for 8 months"),
        ("a fortnight", "2 weeks"),
        ("3wks", "3 weeks"),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("7", 7), ("about a 6/10", 6), ("8 out of 10 at its worst", 8), ("eight", 8), ("meh", None)],
)
def test_severities_when_asked(text, expected):
    assert parse_severity(text, asked=True) == expected


def test_a_bare_number_is_a_severity_only_when_asked():
    assert parse_severity("7") is None and parse_severity("about a 7/10") == 7


def test_triggers_by_clause():
    assert parse_triggers("worse when I sit or cough, but walking helps") == {
        "worse": ["coughing", "sitting"],
        "better": ["walking"],
    }


def test_a_description_is_read_with_negation(kb):
    piece = read_piece(
        "shooting pain down the back of my right thigh into my calf when I cough, "
        "for about 3 weeks, no numbness",
        kb,
    )
    assert "pain_down_leg" in piece.symptoms and "numbness" not in piece.symptoms
    assert "numbness" in piece.absent
    assert piece.travel == "down to the calf" and piece.side == "right side"
    assert piece.duration == "3 weeks" and piece.worse == ["coughing"]
    assert piece.location == "thigh" and next_question(piece) == "onset"


@pytest.mark.parametrize(
    "text, side",
    [("left leg", "left side"), ("sorry it's the right side not left", "right side"),
     ("both sides", "both sides"), ("lft buttock", "left side"), ("no idea", None)],
)  # fmt: skip
def test_sides_with_corrections(text, side):
    assert parse_side(text) == side


def test_how_it_started_is_not_what_makes_it_worse(kb):
    piece = read_piece("it started after I carried the shopping upstairs", kb)
    assert piece.onset == "after i carried the shopping upstairs"
    assert piece.worse == [] and parse_onset("out of nowhere") == "no clear reason"


@pytest.mark.parametrize(
    "asking, answer, field, value",
    [
        ("travel", "no", "travel", "stays in the back"),
        ("travel", "yeah to my knee", "travel", "down to the knee"),
        ("duration", "3", "duration", "3 days"),
        ("severity", "7", "severity", "7/10"),
        ("severity", "prob a 6", "severity", "6/10"),
        ("onset", "lifting a box at work", "onset", "lifting a box at work"),
        ("onset", "no", "onset", "no clear reason"),
        ("location", "lower back", "location", "lower back"),
    ],
)
def test_a_fragment_is_read_against_the_question(kb, asking, answer, field, value):
    assert getattr(read_answer(answer, asking, kb), field) == value


def test_no_to_the_nerve_question_denies_all_three(kb):
    piece = read_answer("no", "other_symptoms", kb)
    assert set(piece.absent) == {"numbness", "tingling", "weakness"}
    assert "other_symptoms" in piece.settled


def test_skip_settles_a_question(kb):
    case = Case(location="lower back", symptoms=["low_back_pain"])
    case.merge(read_answer("skip", "travel", kb))
    assert next_question(case) == "duration"


def test_a_correction_replaces_what_it_corrects(kb):
    case = Case()
    case.merge(read_piece("pain in my left buttock for 2 weeks", kb))
    case.merge(read_piece("sorry, 3 weeks and it's the right side not left", kb))
    assert case.duration == "3 weeks" and case.side == "right side"
    case.merge(read_piece("actually no numbness", kb))
    case.merge(read_piece("well a bit of numbness in my foot", kb))
    assert "numbness" in case.symptoms and "numbness" not in case.absent


def test_the_cheap_reading_for_the_policy():
    assert "worse_better" in mentions_case_details("worse when I cough")
    assert mentions_case_details("3 weeks") == {"duration"}
    assert not mentions_case_details("what's the weather tomorrow")
    # Someone's idea of the cause, even one naming an organ we do not treat, is the story.
    assert "theory" in mentions_case_details("my mum thinks its my kidneys lol")
    assert "theory" in mentions_case_details("the GP reckons it could be a disc")
    assert "duration" in mentions_case_details("had flu in may and ive been achy ever since")


def test_an_onset_told_with_the_day_before_it():
    assert parse_onset("happened on saturday when i was carrying bags of compost") == (
        "when i was carrying bags of compost"
    )


def test_common_problems_rank_before_rarer_ones(kb):
    ranked = rank_conditions(["pain_after_lifting", "muscle_spasms"], kb)
    assert ranked[0].condition == "muscle_strain"
    assert ranked[0].symptoms == ["pain_after_lifting", "muscle_spasms"]


def test_a_story_in_pieces_never_asks_what_it_was_told(kb):
    """Links once, then one question at a time, none already answered; a question answered
    with something else is asked once more; then the summary."""
    case, asking, asked = Case(), None, []
    for piece in [
        "my lower back is killing me",
        "about 3 wks",  # the answer to another question: the leg one comes back once
        "no it stays in my back",
        "started after I carried the shopping upstairs",
        "7",
        "worse when I cough",
        "no",
    ]:
        turn = case_turn(piece, case, asking, kb)
        case, asking = turn.case, turn.asking
        assert asking is None or not case.known(asking)
        asked.append(asking)
    assert asked[:2] == ["travel", "travel"] and "duration" not in asked
    assert asking is None and "clinician will see" in turn.messages[-1]["text"]
    text = summary(case, kb)
    for part in ["3 weeks", "shopping upstairs", "7/10", "coughing", "lower back", "numbness"]:
        assert part in text
    assert short_reason(case, kb).startswith("Low back pain")
    assert len(case.asked) <= vocabulary()["max_questions"]


def test_symptom_check_names_symptoms_links_and_asks_directly(kb):
    text = "I've had lower back pain for 2 weeks that spreads into my buttock, worse when sitting"
    messages, events = run_action(
        ActionSymptomCheck(), make_tracker(text, [], {}, "describe_symptoms")
    )
    answer = "\n".join(m["text"] for m in messages)
    assert "low back pain" in answer.lower()
    for link in rank_conditions(read_piece(text, kb).symptoms, kb):
        assert kb.conditions[link.condition].name in answer
    assert NOT_A_DIAGNOSIS in answer
    assert "Shall I ask" not in answer and "?" in messages[-1]["text"]
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    assert slots["case"]["duration"] == "2 weeks"
    assert slots["case_asking"] == "onset"  # where, how far and how long are known
    assert slots["triage_level"] == "routine" and slots["topic"] == "case"
    assert "How long: 2 weeks" in slots["intake_summary"]


def test_a_description_without_symptoms_asks_where_it_hurts():
    messages, events = run_action(
        ActionSymptomCheck(), make_tracker("I'm in agony", [], {}, "describe_symptoms")
    )
    assert messages[0]["text"] == wording()["templates"]["check_nothing_found"]
    assert {
        "event": "slot",
        "name": "case_asking",
        "value": "location",
        "timestamp": None,
    } in events


def test_stop_ends_the_questions():
    tracker = make_tracker("stop", [], {"case_asking": "severity"}, "stop")
    messages, events = run_action(ActionSymptomCheck(), tracker)
    assert messages[0]["text"] == wording()["templates"]["case_stopped"]
    assert {"event": "slot", "name": "case_asking", "value": None, "timestamp": None} in events


def test_symptom_check_keeps_a_higher_triage_level():
    _, events = run_action(
        ActionSymptomCheck(),
        make_tracker(
            "sharp pain in my lower back", [], {"triage_level": "urgent"}, "describe_symptoms"
        ),
    )
    assert not [e for e in events if e.get("name") == "triage_level"]
