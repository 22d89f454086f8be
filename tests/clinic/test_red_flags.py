"""Red-flag detection and symptom findings: recall on our red-flag phrasings, false alarms on
negated and benign messages, and the context rules (negation, family, hypothetical, past).

Pure functions only: the triage action (its replies, slots and records) is tested in
tests/actions/triage/test_red_flag_action.py."""

from __future__ import annotations

import pytest
import yaml

from clinic.red_flags import findings_in, red_flags_in, triage_level
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
#: Blind sets whose first-pass misses are not fixed yet (`scripts/evaluate_triage.py --cases
#: ... -v`). Issue 19: the fourth set's first pass caught 71/84 with 3/60 false alarms; fixed.
NOT_FIXED_YET: set[str] = set()


def _case_param(path):
    if path.stem in NOT_FIXED_YET:
        reason = "first pass of a new blind set: misses still to be fixed"
        return pytest.param(path, marks=pytest.mark.xfail(strict=True, reason=reason))
    return path


@pytest.fixture(scope="module", params=[_case_param(p) for p in CASE_FILES], ids=lambda p: p.stem)
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


@pytest.mark.parametrize(
    "text, expected",
    [
        # "suddenly can't ..." is only about walking when walking follows: the reply leads
        # with the sign the person reported.
        ("I suddenly can't control my bladder", ["bladder_bowel"]),
        ("I suddenly can't walk properly", ["progressive_weakness"]),
        ("sudden difficulty walking since this morning", ["progressive_weakness"]),
    ],
)
def test_the_sign_reported_is_the_only_one_found(text, expected):
    assert [h.id for h in red_flags_in(text)] == expected


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


def test_training_descriptions_of_ordinary_pain_raise_no_red_flag(nlu_examples):
    """The describe_symptoms examples are ordinary, non-emergency descriptions."""
    examples = [
        e
        for e in nlu_examples(ROOT / "data" / "nlu" / "symptom_check.yml")
        if e.intent in ("describe_symptoms", "inform")
    ]
    flagged = [(e.text, [h.id for h in red_flags_in(e.text)]) for e in examples]
    assert [f for f in flagged if f[1]] == []


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
    from clinic.red_flags import advice_in

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


# --- phrasing families added for the fourth blind set (issue 19) ---------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        # urinary hesitancy and a weak or stop-start stream
        ("I'm having trouble starting to pee since my back went", "bladder_bowel"),
        ("it takes ages to get my pee going now", "bladder_bowel"),
        ("my urine stream has gone really weak this week", "bladder_bowel"),
        ("I've got a weak stream that stops and starts", "bladder_bowel"),
        ("I stand at the toilet for ages before anything comes", "bladder_bowel"),
        # new constipation with leg weakness or numbness
        ("I've been constipated for a week and my left leg is going numb", "bladder_bowel"),
        ("haven't opened my bowels in 5 days and my legs feel heavy", "bladder_bowel"),
        # sexual problems in other words; numb or less sensitive genitals
        ("I can't feel a thing when we're intimate any more", "sexual_dysfunction"),
        ("hardly any feeling in my vagina since the disc went", "sexual_dysfunction"),
        ("I've had ED since my back went", "sexual_dysfunction"),
        # weakness or numbness getting worse
        ("the numbness in my right foot has got worse since yesterday", "progressive_weakness"),
        # something heavy falling on someone
        ("a pallet fell on me at the warehouse", "major_trauma"),
        ("I got pinned under the car when the jack slipped", "major_trauma"),
        # a pulsing feeling in the tummy
        ("I can feel a pulsing in my belly and my back is killing me", "aneurysm"),
        ("my tummy feels like it has its own heartbeat", "aneurysm"),
        # searching for a way to die
        ("I've been googling painless ways to die", "self_harm"),
        # weight loss as a weight or size lighter; someone else's word about me
        ("I'm a stone lighter than at christmas", "weight_loss"),
        ("my husband says I have lost weight and I don't know why", "weight_loss"),
        # pain worse lying down; having to sleep upright; nothing eases it
        ("my back is worse when I lie flat", "night_pain"),
        ("the pain is worse in bed", "night_pain"),
        ("I've been sleeping in the recliner because of my back", "night_pain"),
        ("nothing relieves it, not even lying down", "night_pain"),
        # a resolved cue that is denied is not resolved
        ("my kidney infection hasn't fully cleared and my back is agony", "fever_infection"),
        ("the numbness down there never went away", "saddle_numbness"),
        # "I suppose" is a hedge, not a hypothetical
        ("I suppose my groin has been a bit numb lately", "saddle_numbness"),
        ("I've had repeated courses of prednisolone for my asthma", "fracture_risk"),
    ],
)
def test_new_phrasing_families_are_caught(text, expected):
    assert expected in {h.id for h in red_flags_in(text)}


@pytest.mark.parametrize(
    "text",
    [
        "no trouble peeing",
        "I'm constipated from the painkillers",
        "the codeine has made me constipated, back still sore",
        "I lost weight on purpose",
        "my wife says she has lost weight",
        "pain eases when I lie down",
        "it's worse when I sit and better lying flat",
        "I sleep on the sofa because my husband snores",
        "the pain in my leg is getting worse",
        "the numbness in my foot isn't getting any worse",
        "a box fell on my foot",
        "it fell on me to look after mum and the lifting hurt my back",
        "I have a throbbing pain in my stomach after eating",
        "I'm looking up ways to kill the pain naturally",
        "I went to the ED last night with my back",
        "I can't get up off the sofa without help",  # getting up, not an erection
        "had a kidney infection years ago, completely cleared, backache is from lifting",
        "I had a short course of prednisolone for my chest last winter",
        "suppose I lost control of my bladder, what then?",
        "supposing my legs went numb, would I need A&E?",
        "hypothetically, if I couldn't pee, is that serious?",
    ],
)
def test_new_negated_benign_past_and_hypothetical_counterparts_are_not(text):
    assert red_flags_in(text) == []
