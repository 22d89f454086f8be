"""Red-flag detection and symptom findings: recall on our red-flag phrasings, false alarms on
negated and benign messages, and the context rules (negation, family, hypothetical, past)."""

from __future__ import annotations

import pytest
import yaml

from actions.triage import findings_in, red_flags_in, triage_level
from scripts.evaluate_triage import DEFAULT_CASES, evaluate
from tests.helpers import ROOT

CASES = yaml.safe_load(DEFAULT_CASES.read_text())


def test_the_case_set_is_big_enough_and_covers_every_red_flag(kb):
    positives = CASES["positives"]
    assert set(positives) == set(kb.red_flags)
    assert sum(len(v) for v in positives.values()) >= 80
    assert min(len(v) for v in positives.values()) >= 5
    assert len(CASES["negatives"]) >= 60


#: Our red-flag set, and the blind sets written later by other authors without seeing the
#: detector (their first-pass scores are in the closing notes; misses found there were fixed
#: and stay here as regression cases).
CASE_FILES = sorted((ROOT / "tests" / "triage").glob("red_flag_*.yml"))


@pytest.fixture(scope="module", params=CASE_FILES, ids=lambda p: p.stem)
def scores(request):
    return evaluate(request.param)


def test_every_red_flag_phrasing_is_caught(scores):
    assert scores.recall == 1.0, scores.misses


def test_false_alarms_on_negated_and_benign_messages_are_rare(scores):
    assert scores.false_positive_rate <= 0.02, scores.false_alarms


@pytest.mark.parametrize(
    "text, expected",
    [
        ("I can't feel the toilet paper when I wipe", "saddle_numbness"),
        ("i cant pee and my back is agony", "bladder_bowel"),
        ("numbess aroud my back passage", "saddle_numbness"),  # typos
        ("both my legs have gone numb", "bilateral_legs"),
        ("I keep tripping over my right foot", "progressive_weakness"),
        ("fell off a ladder yesterday and my back is killing me", "major_trauma"),
        ("sudden tearing pain in my tummy and back, I feel faint", "aneurysm"),
        ("I've got a fever and chills and my back hurts", "fever_infection"),
        ("I had breast cancer five years ago and now my back aches", "cancer_history"),
        ("I've been on prednisolone for years and felt something go", "fracture_risk"),
        ("I don't want to live anymore", "self_harm"),
        ("is it bad that I can't pee?", "bladder_bowel"),  # a question, but about oneself
    ],
)
def test_reports_about_oneself_are_caught(text, expected):
    assert expected in {h.id for h in red_flags_in(text)}


@pytest.mark.parametrize(
    "text",
    [
        "no numbness between my legs and no problems peeing",  # negated
        "I don't have a fever",
        "my mum had breast cancer",  # family
        "my husband can't feel his legs",  # someone else
        "what if I get numbness in both legs?",  # hypothetical
        "can a slipped disc cause bladder problems?",  # general question
        "my doctor ruled out an infection",
        "I had a fever last month but it's gone",  # past and over
        "I'm on a diet and have lost 10 pounds",  # weight lost on purpose
        "this pain is killing me",
        "I get pain down one leg when I sit",
        "my eyes are itchy, could it be hay fever?",
    ],
)
def test_negated_hypothetical_family_and_benign_messages_are_not(text):
    assert red_flags_in(text) == []


def test_thoughts_of_suicide_count_even_as_a_question():
    assert {h.id for h in red_flags_in("what if I just ended it all?")} == {"self_harm"}


def test_hits_are_ordered_most_urgent_first_with_their_words():
    hits = red_flags_in("I have a fever and I've lost control of my bladder")
    assert [h.id for h in hits] == ["bladder_bowel", "fever_infection"]
    assert hits[0].text == "lost control of my bladder"
    assert triage_level(hits) == "emergency"
    assert triage_level(red_flags_in("I have a fever")) == "urgent"
    assert triage_level([]) == "routine"


def test_symptom_findings_respect_negation_and_other_people():
    f = findings_in(
        "Sharp pain in my lower back down my left leg, no numbness; my sister has tingling"
    )
    assert "sharp_pain" in f.present("symptom")
    assert "numbness" in f.absent("symptom") and "numbness" not in f.present("symptom")
    assert "tingling" not in f.present("symptom")


def test_training_descriptions_of_ordinary_pain_raise_no_red_flag():
    """The describe_symptoms examples are ordinary, non-emergency descriptions."""
    from scripts.evaluate_nlu import load_examples

    examples = [
        e
        for e in load_examples(ROOT / "data" / "nlu" / "symptom_check.yml")
        if e.intent in ("describe_symptoms", "inform")
    ]
    flagged = [(e.text, [h.id for h in red_flags_in(e.text)]) for e in examples]
    assert [f for f in flagged if f[1]] == []


# --- the triage action ----------------------------------------------------------------------


@pytest.fixture
def database(tmp_path, monkeypatch):
    """A throwaway SQLite file for triage records."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CLINIC_DB_PATH", str(tmp_path / "clinic.db"))
    return tmp_path / "clinic.db"


def triage(text, slots=None, active_loop=None):
    from actions.triage import ActionTriageRedFlag
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
    from actions.storage import recent_triage_events

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
    from actions.booking import ActionPrepareBooking
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


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my calf is swollen, red and hot", ["blood_clot"]),
        ("my calf is swollen, red and hot and I'm short of breath", ["blood_clot_lungs"]),
        ("My calf is swollen and red. I'm also short of breath.", ["blood_clot_lungs"]),
        ("my calf is swollen but no shortness of breath", ["blood_clot"]),
        ("I'm 28 weeks pregnant and my lower back really hurts", ["pregnancy_back_pain"]),
        ("I'm pregnant and bleeding a little, and my back aches", ["pregnancy_warning"]),
        ("I'm 30 weeks pregnant, can I have a massage?", []),
        ("my wife is pregnant and bleeding", []),
    ],
)
def test_blood_clot_and_pregnancy_signs(text, expected):
    """A swollen, red, hot calf is same-day care, with breathlessness anywhere in the message
    an emergency (the emergency answer already covers the same-day one)."""
    hits = red_flags_in(text)
    urgent = [h.id for h in hits if h.route != "same_day"] or [h.id for h in hits]
    assert urgent == expected


def test_advice_signs_are_not_red_flags():
    from actions.triage import advice_in

    for text, flag in [
        ("I'm 67 and my back started hurting last week", "age_new_pain"),
        ("I'm 17 and my back hurts after football", "age_new_pain"),
        ("I have psoriasis and my lower back has been stiff for months", "inflammatory_conditions"),
        ("my back is stiff in the morning but gets better when I move", "inflammatory_pattern"),
    ]:
        assert red_flags_in(text) == [], text
        assert [h.id for h in advice_in(text)] == [flag], text
    for text in (
        "I'm 67 and want to know your prices",  # no pain
        "my mum is 75 and her back hurts",  # someone else
        "I have pain for 60 days",  # a number, not an age
    ):
        assert advice_in(text) == [], text


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
    from actions.triage import ActionTriageRedFlag, escalations
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
