"""Reading follow-ups and booking requests (clinic/subject.py), and answering follow-ups
about a condition, a treatment or the patient's own case
(actions/knowledge_answers/follow_ups.py)."""

from __future__ import annotations

import pytest

from actions.knowledge_answers.follow_ups import ActionFollowUp
from clinic.subject import (
    asks_to_book,
    change_misread,
    contraindication_terms,
    follow_up_kind,
    is_clinic_question,
    is_question,
    name_misread,
    names_a_booking,
)
from tests.helpers import make_tracker, run_action


@pytest.mark.parametrize(
    "text, kind",
    [
        ("is it serious?", "serious"),
        ("is it serius?", "serious"),  # typos too
        ("is it dangrous", "serious"),
        ("will it go away on its own", "go_away"),
        ("how long does it normally go on for", "how_long"),
        ("what should i do?", "what_to_do"),
        ("anything i can do at home?", "self_care"),
        ("does it hurt?", "hurt"),
        ("how many sessions would i need", "sessions"),
        ("which of those cause leg pain", "leg_pain"),
        ("can i still have it if im pregnant", "contraindication"),
        ("what if i have osteoporosis", "contraindication"),
        ("could my job be causing it?", "causes"),
        ("and does it actually work", "evidence"),
        ("my back hurts when i sit", None),  # a story, not a question
        ("whats the best dog food for a labrador", None),
    ],
)
def test_follow_up_kinds(text, kind):
    assert follow_up_kind(text) == kind


def test_clinic_questions_and_booking_requests():
    assert is_clinic_question("how much is the first visit?")
    assert not is_clinic_question("is it serious?")
    assert asks_to_book("im 67, my back has been sore for a week, could i book for thursday")
    assert asks_to_book("can you fit me in monday?")
    assert not asks_to_book("my back has been sore for a week")
    assert is_question("know any good cafes near you")


@pytest.mark.parametrize(
    ("text", "names_one"),
    [
        ("can i move my appointment to friday", True),
        ("i need to reschedule", True),
        ("my ref is bk 7k2q9m, can we do later", True),
        ("could we push it back an hour", True),
        # A change of time for the booking under way, or a new one: no booking named.
        ("hmm could we make it the morning instead", False),
        ("could i try it? friday suits me", False),
    ],
)
def test_a_change_of_time_names_a_booking_already_made_or_not(text, names_one):
    assert names_a_booking(text) is names_one
    assert change_misread("reschedule_appointment", text) is not names_one
    assert not change_misread("faq", text)


@pytest.mark.parametrize(
    ("text", "a_name"),
    [
        ("Jo Smith", True),
        ("Mary-Jane O'Neil", True),
        ("stop", False),
        ("stop messaging me", False),
        ("no thanks", False),
        ("actually leave it", False),
    ],
)
def test_a_name_the_classifier_called_a_stop_is_still_the_name(text, a_name):
    assert name_misread("stop", "patient_name", text) is a_name
    assert not name_misread("stop", "patient_contact", text)  # only where a name is asked
    assert contraindication_terms("what if im pregnant and on blood thinners") == [
        "pregnant",
        "blood thinners",
    ]


def follow_up(text, slots):
    tracker = make_tracker(text, [], slots, "ask_outlook")
    messages, events = run_action(ActionFollowUp(), tracker)
    return "\n".join(m["text"] for m in messages), events


def test_is_it_serious_about_a_condition(kb):
    sciatica = kb.conditions["sciatica"]
    text, events = follow_up("is it serious?", {"condition": "sciatica", "topic": "condition"})
    assert sciatica.outlook in text and sciatica.urgent in text
    assert {"event": "slot", "name": "topic", "value": "condition", "timestamp": None} in events


def test_self_care_for_a_condition_lists_only_what_people_do_themselves(kb):
    text, _ = follow_up(
        "anything i can do at home?", {"condition": "herniated_disc", "topic": "condition"}
    )
    own = [t for t in kb.treatments_for("herniated_disc") if t.kind == "self_care"]
    assert own and all(t.summary in text for t in own)
    assert "Spinal manipulation" not in text


def test_a_contraindication_about_a_treatment_quotes_its_caution(kb):
    text, _ = follow_up(
        "what if i have osteoporosis",
        {"treatment": "spinal_manipulation", "topic": "treatment"},
    )
    assert "osteoporosis" in text and "Spinal manipulation" in text


def test_a_pronoun_after_a_switch_means_the_latest_subject(kb):
    decompression = kb.treatments["spinal_decompression"]
    text, _ = follow_up(
        "does it hurt?",
        {"condition": "sciatica", "treatment": "spinal_decompression", "topic": "treatment"},
    )
    assert decompression.session in text


def test_serious_about_the_patients_own_case_never_judges_it(kb):
    text, _ = follow_up("is it serious?", {"topic": "case", "case": {"duration": "3 days"}})
    assert "can't tell how serious your own pain is" in text
    assert "Nothing you've told me so far is one of the emergency signs" in text
    # It never says there is no same-day sign: pain worse when coughing is one, and is not
    # flagged (it is also an ordinary sciatica feature).
    assert "please read the whole list" in text and "the same day" in text
    assert kb.clinic.emergency_number in text
    text, _ = follow_up("is it serious?", {"topic": "case", "triage_level": "urgent"})
    assert "needs checking by a doctor first" in text


def test_what_to_do_and_self_care_about_the_case(kb):
    text, _ = follow_up("what should i do?", {"topic": "case"})
    assert kb.faqs["rest_or_move"].answer[:40] in text
    text, _ = follow_up("what can i do at home meanwhile", {"topic": "case"})
    assert kb.treatments["heat_ice"].summary in text
