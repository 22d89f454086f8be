"""Answer actions on real rasa-sdk trackers: each answer comes from the right knowledge-base
entry, follows the conversation's context, fits in a chat bubble and offers a next step."""

from __future__ import annotations

import itertools
import json
import re

import pytest
import yaml

from actions.chat import say, wording
from actions.general.session import ActionDefaultFallback, ActionSessionStart
from actions.knowledge_answers.answers import (
    ActionExplainAssessment,
    ActionExplainCauses,
    ActionExplainCondition,
    ActionExplainLegPain,
    ActionExplainOutlook,
    ActionExplainSymptoms,
    ActionExplainTreatment,
)
from actions.knowledge_answers.asks import answers_config
from clinic.knowledge.wording import hours_runs
from scripts.web import hours_html
from tests.helpers import CONDITION_IDS, ROOT, entities_in, make_tracker, run_action

BUBBLE_LIMIT = 700
NOT_A_DIAGNOSIS = wording()["templates"]["not_a_diagnosis"]


def ask(action, text="", intent="ask_condition_info", slots=None, entities=None):
    """Run `action` as if the user had just said `text` (entities found by the real pipeline)."""
    tracker = make_tracker(
        text, entities if entities is not None else entities_in(text), slots, intent
    )
    return run_action(action, tracker)


def texts(messages):
    return "\n".join(m["text"] for m in messages)


def slots_set(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


def domain_intents():
    intents = set()
    for path in (ROOT / "domain").glob("*.yml"):
        intents |= set(yaml.safe_load(path.read_text()).get("intents", []))
    return intents


def check_buttons(messages, kb):
    """Buttons sit on the last message and every payload is a valid intent + KB ids."""
    assert all(not m["buttons"] for m in messages[:-1])
    intents = domain_intents()
    for b in messages[-1]["buttons"]:
        m = re.fullmatch(r"/(\w+)(\{.*\})?", b["payload"])
        assert m and m.group(1) in intents, b
        for label, value in json.loads(m.group(2) or "{}").items():
            if label == "aspect":
                assert value in answers_config()["aspect_words"]
            else:
                assert value in kb.by_label(label), b


def check_bubbles(messages):
    for m in messages:
        assert 0 < len(m["text"]) <= BUBBLE_LIMIT, m["text"]


# --- conditions ----------------------------------------------------------------------------


@pytest.mark.parametrize("cid", CONDITION_IDS)
def test_each_condition_answer_comes_from_its_entry(kb, cid):
    c = kb.conditions[cid]
    name = c.name
    info, events = ask(ActionExplainCondition(), f"what is {name}?")
    assert c.summary in texts(info)
    assert slots_set(events) == {"condition": cid, "topic": "condition"}

    causes, _ = ask(ActionExplainCauses(), f"what causes {name}", "ask_causes")
    assert all(cause in texts(causes) for cause in c.causes)

    symptoms, _ = ask(ActionExplainSymptoms(), f"symptoms of {name}?", "ask_symptoms")
    assert all(s in texts(symptoms) for s in c.symptoms)
    assert c.urgent in texts(symptoms)

    outlook, _ = ask(ActionExplainOutlook(), f"how long does {name} last", "ask_outlook")
    assert c.outlook in texts(outlook)

    checked, _ = ask(ActionExplainAssessment(), f"how is {name} diagnosed", "ask_assessment")
    assert c.assessment in texts(checked)

    treatments, _ = ask(ActionExplainTreatment(), f"how do you treat {name}", "ask_treatment")
    for tid in c.treatments:
        assert kb.treatments[tid].name in texts(treatments)
    assert c.other_options in texts(treatments)

    for messages in (info, causes, symptoms, outlook, checked, treatments):
        check_bubbles(messages)
        check_buttons(messages, kb)
        assert NOT_A_DIAGNOSIS not in texts(messages)  # general questions: no personal note
        assert any(b["payload"] == "/request_appointment" for b in messages[-1]["buttons"])


def test_context_carries_over_to_follow_up_questions(kb):
    """After sciatica was discussed, "what causes it?" and "how do you treat that?" are about it."""
    sciatica = kb.conditions["sciatica"]
    slots = {"condition": "sciatica", "topic": "condition"}
    causes, events = ask(ActionExplainCauses(), "what causes it?", "ask_causes", slots)
    assert all(cause in texts(causes) for cause in sciatica.causes)
    assert slots_set(events)["condition"] == "sciatica"
    treat, _ = ask(ActionExplainTreatment(), "how do you treat that?", "ask_treatment", slots)
    assert texts(treat).startswith(f"{sciatica.name}, treatment options")


@pytest.mark.parametrize(
    "action, intent",
    [
        (ActionExplainCondition(), "ask_condition_info"),
        (ActionExplainCauses(), "ask_causes"),
        (ActionExplainSymptoms(), "ask_symptoms"),
        (ActionExplainOutlook(), "ask_outlook"),
        (ActionExplainAssessment(), "ask_assessment"),
    ],
)
def test_without_a_known_condition_the_bot_asks_which(kb, action, intent):
    messages, events = ask(action, "what causes it?", intent)
    assert len(messages) == 1 and events == []
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == [f'/{intent}{{"condition": "{cid}"}}' for cid in kb.conditions]


def test_another_name_is_recognised_and_explained(kb):
    messages, events = ask(
        ActionExplainCondition(), "is a slipped disc the same as a prolapsed disc?"
    )
    text = texts(messages)
    assert text.startswith('Yes: "slipped disc" and "prolapsed disc" are names people use')
    assert kb.conditions["herniated_disc"].summary in text
    assert slots_set(events)["condition"] == "herniated_disc"


def test_a_related_word_is_explained_as_different_not_as_another_name(kb):
    """A bulge is not a herniation (Fardon 2014): the answer says so, and still explains the
    disc problem the person is asking about."""
    disc = kb.conditions["herniated_disc"]
    messages, events = ask(
        ActionExplainCondition(), "is a slipped disc the same as a bulging disc?"
    )
    text = texts(messages)
    assert text.startswith('"bulging disc" and herniated disc are not quite the same thing.')
    assert disc.related_note in text
    assert '"slipped disc" is another name people use for herniated disc' in text
    assert "Yes:" not in text and 'bulging disc" is another name' not in text
    assert slots_set(events)["condition"] == "herniated_disc"
    messages, events = ask(ActionExplainCondition(), "I have rheumatoid arthritis in my back")
    text = texts(messages)
    assert kb.conditions["inflammatory_back_pain"].related_note in text
    assert "osteoarthritis" not in text.lower()
    assert slots_set(events)["condition"] == "inflammatory_back_pain"


def test_see_a_doctor_soon_advice_is_added_to_the_answer(kb):
    """Advice signs (new back pain after 50, inflammatory signs) add a note to the normal
    answer, before the bubble that carries the buttons."""
    messages, _ = ask(ActionExplainCauses(), "I'm 64, what causes sciatica?", "ask_causes")
    reason = kb.red_flags["age_new_pain"].reason
    notes = [i for i, m in enumerate(messages) if reason in m["text"]]
    assert notes and notes[0] < len(messages) - 1
    assert messages[-1]["buttons"]
    check_buttons(messages, kb)
    messages, _ = ask(ActionExplainCauses(), "what causes sciatica?", "ask_causes")
    assert reason not in texts(messages)


def test_two_different_conditions_are_both_explained(kb):
    messages, _ = ask(ActionExplainCondition(), "is spinal stenosis the same as sciatica?")
    text = texts(messages)
    assert kb.conditions["spinal_stenosis"].summary in text
    assert kb.conditions["sciatica"].summary in text
    assert messages[0]["text"] == wording()["templates"]["different_conditions"]


def test_personal_questions_get_the_not_a_diagnosis_note(kb):
    messages, _ = ask(ActionExplainCauses(), "why is my sciatica so bad?", "ask_causes")
    assert messages[-1]["text"] == NOT_A_DIAGNOSIS
    assert messages[-1]["buttons"]  # buttons follow the last message


# --- symptoms --------------------------------------------------------------------------------


def test_symptom_causes_name_linked_conditions_most_common_first(kb):
    messages, _ = ask(ActionExplainCauses(), "what causes numbness in my leg?", "ask_causes")
    text = texts(messages)
    links = kb.conditions_for_symptom("numbness")
    positions = [text.index(kb.conditions[ln.condition].name + ":") for ln in links]
    assert positions == sorted(positions)
    assert all(ln.why in text for ln in links)
    assert NOT_A_DIAGNOSIS in text
    check_buttons(messages, kb)


def test_symptom_of_a_condition(kb):
    messages, _ = ask(
        ActionExplainSymptoms(), "can a herniated disc cause tingling?", "ask_symptoms"
    )
    link = next(
        ln for ln in kb.symptoms["tingling"].linked_conditions if ln.condition == "herniated_disc"
    )
    assert link.why in texts(messages)


def test_every_symptom_answer_explains_warns_and_fits(kb):
    for sid, s in kb.symptoms.items():
        messages, _ = ask(
            ActionExplainCauses(),
            "what causes this?",
            "ask_causes",
            entities=[{"entity": "symptom", "value": sid}],
        )
        assert s.explanation in texts(messages)
        if s.check_first:
            assert s.check_first in texts(messages)
        check_bubbles(messages)
        check_buttons(messages, kb)


# --- treatments ------------------------------------------------------------------------------


def test_treatment_description_comes_from_its_entry(kb):
    t = kb.treatments["spinal_decompression"]
    messages, events = ask(
        ActionExplainTreatment(), "what is spinal decompression and does it hurt?", "ask_treatment"
    )
    text = texts(messages)
    assert t.summary in text and t.session in text
    assert kb.clinic.name in text  # offered here
    assert slots_set(events) == {"treatment": "spinal_decompression", "topic": "treatment"}


def test_treatment_aspects_follow_the_question(kb):
    t = kb.treatments["cold_laser"]
    works, _ = ask(ActionExplainTreatment(), "does cold laser actually work?", "ask_treatment")
    assert t.evidence in texts(works) and t.session not in texts(works)
    safe, _ = ask(ActionExplainTreatment(), "who should not have cold laser", "ask_treatment")
    assert t.not_for in texts(safe) and t.suits in texts(safe)
    titles = [b["title"] for b in safe[-1]["buttons"]]
    assert "Does it work?" in titles and "Is it right for me?" not in titles


def test_follow_up_about_the_last_treatment(kb):
    slots = {"condition": "sciatica", "treatment": "spinal_manipulation", "topic": "treatment"}
    messages, _ = ask(ActionExplainTreatment(), "does it hurt?", "ask_treatment", slots)
    assert kb.treatments["spinal_manipulation"].session in texts(messages)


def test_follow_up_on_the_same_treatment_answers_just_that(kb):
    """After a treatment was described, "does it work?" gets the evidence, not a repeat."""
    t = kb.treatments["cold_laser"]
    tracker = make_tracker(
        "does it work?", [], {"treatment": "cold_laser", "topic": "treatment"}, "ask_treatment"
    )
    tracker.events.insert(0, {"event": "slot", "name": "treatment", "value": "cold_laser"})
    messages, _ = run_action(ActionExplainTreatment(), tracker)
    assert texts(messages).startswith("What the research says:")
    assert t.evidence in texts(messages) and t.summary not in texts(messages)


def test_treatment_for_a_condition(kb):
    messages, _ = ask(
        ActionExplainTreatment(), "can spinal decompression help a slipped disc?", "ask_treatment"
    )
    t = kb.treatments["spinal_decompression"]
    key = (
        "treatment_for_condition"
        if "herniated_disc" in t.conditions
        else "treatment_not_for_condition"
    )
    assert say(key, condition=kb.conditions["herniated_disc"].name) in texts(messages)


def test_no_treatment_named_lists_what_the_clinic_offers(kb):
    messages, _ = ask(ActionExplainTreatment(), "what treatments do you do?", "ask_treatment")
    offered = [t.id for t in kb.treatments.values() if t.offered]
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        f'/ask_treatment{{"treatment": "{tid}"}}' for tid in offered
    ]


def test_every_treatment_answer_fits_in_chat_bubbles(kb):
    for tid, aspect in itertools.product(kb.treatments, (None, *answers_config()["aspect_words"])):
        entities = [{"entity": "treatment", "value": tid}]
        if aspect:
            entities.append({"entity": "aspect", "value": aspect})
        messages, _ = ask(
            ActionExplainTreatment(),
            f'/ask_treatment{{"treatment": "{tid}"}}',
            "ask_treatment",
            entities=entities,
        )
        check_bubbles(messages)
        check_buttons(messages, kb)


# --- leg pain, booking, session ---------------------------------------------------------------


def test_leg_pain_explanation_covers_nerves_discs_joints_and_soft_tissue(kb):
    messages, _ = ask(
        ActionExplainLegPain(), "why does my back problem make my leg hurt?", "ask_leg_pain_link"
    )
    text = texts(messages)
    for sid in ("nerve_roots", "discs", "facet_joints", "soft_tissues"):
        assert kb.structures[sid].leg_pain in text
    assert NOT_A_DIAGNOSIS in text
    check_bubbles(messages)
    check_buttons(messages, kb)


@pytest.mark.parametrize("region", ["hip", "knee", "calf", "foot"])
def test_leg_pain_for_a_joint_or_the_calf_names_other_causes(kb, region):
    """The back-to-leg explanation does not hide that the hip, knee, calf or foot can be the
    source itself (and a calf can have a blood clot)."""
    messages, _ = ask(ActionExplainLegPain(), f"why does my {region} hurt?", "ask_leg_pain_link")
    text = texts(messages)
    assert kb.regions[region].explanation in text
    assert "can also come from the leg itself" in text
    if region == "calf":
        assert "blood clot" in text and "same day" in text


def test_opening_hours_group_weekdays(kb):
    runs = hours_runs(kb.clinic.hours)
    assert (runs[0].first, runs[-1].last) == ("monday", "sunday")
    assert all(a.ranges != b.ranges for a, b in itertools.pairwise(runs))
    rows = hours_html(kb.clinic).splitlines()  # the web page's table: one row per run
    assert len(rows) == len(runs) <= 7
    assert rows[-1].startswith("<tr><th>Sun")


def test_session_start_fills_clinic_slots_and_keeps_context(kb):
    tracker = make_tracker(slots={"condition": "sciatica", "clinic_name": "old"})
    _, events = run_action(ActionSessionStart(), tracker)
    assert events[0]["event"] == "session_started"
    assert (events[-1]["event"], events[-1]["name"]) == ("action", "action_listen")
    values = slots_set(events)
    assert values["condition"] == "sciatica"
    assert values["clinic_name"] == kb.clinic.name
    assert values["emergency_number"] == kb.clinic.emergency_number


def test_dialogue_fallback_offers_the_phone_and_reverts(kb):
    messages, events = run_action(ActionDefaultFallback(), make_tracker("qwerty zxcv"))
    assert kb.clinic.phone in messages[0]["text"]
    assert events == [{"event": "rewind", "timestamp": None}]


@pytest.mark.parametrize(
    "entities",
    [
        [{"entity": "condition", "value": "no_such_condition"}],
        [{"entity": "treatment", "value": ["spinal_manipulation"]}],
        [{"entity": "aspect", "value": "colour"}, {"entity": "treatment", "value": "cold_laser"}],
        [{"entity": "condition", "value": "sciatica", "start": "x", "end": None}],
        [{"value": "sciatica"}],
    ],
)
@pytest.mark.parametrize(
    "action",
    [
        ActionExplainCondition(),
        ActionExplainCauses(),
        ActionExplainSymptoms(),
        ActionExplainOutlook(),
        ActionExplainAssessment(),
        ActionExplainTreatment(),
        ActionExplainLegPain(),
    ],
)
def test_malformed_entities_get_a_kind_answer_not_a_crash(kb, action, entities):
    """Payloads typed by hand (/ask_causes{"condition": ...}) reach the actions unchecked."""
    slots = {"topic": "treatment", "treatment": "cold_laser"}
    messages, _ = ask(action, '/ask{"x": 1}', slots=slots, entities=entities)
    assert messages and all(m["text"] for m in messages)
