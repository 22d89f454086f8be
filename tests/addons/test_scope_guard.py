"""The scope guard: messages about other parts of the body become out_of_scope, messages that
name anything we know stay where DIET put them, and no training example is flipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from addons.scope_guard import OUT_OF_SCOPE, SCOPE_KEY, ScopeGuard
from tests.helpers import ROOT, entities_in


@pytest.fixture(scope="module")
def guard() -> ScopeGuard:
    return ScopeGuard(ScopeGuard.get_default_config())


@pytest.mark.parametrize(
    "text",
    [
        "I have an itchy rash on my arm",
        "my eyes have been blurry since monday",
        "what causes diabetes",
        "i've had a toothache for days",
        "my stomach cramps after i eat",
        "i can't stop coughing",  # -ing forms too
        "is metformin safe with gluten free bread",
        "a stabbing pain in my tummy after meals",  # a symptom, but placed elsewhere
        "tingling in my fingertips all evening",
        "a throbbing pain at the back of my head",  # not the lower back
        "a sore spot at the back of the throat",
        "my eczema keeps coming back every winter",  # "back" as in "again"
        "can you call me back about my blood test",
        "is it ok to take statins with grapefruit",  # not a typo for "strains"
    ],
)
def test_other_health_topics_are_out_of_scope(guard, text):
    assert guard.outside_terms(text, entities_in(text))


@pytest.mark.parametrize(
    "text",
    [
        "a rash and pain down my leg",  # the leg keeps it in scope
        "i got a headache after my appointment",  # an inside word
        "my sciatica gets worse when I cough",  # a knowledge-base condition
        "is cold better than heat for it",
        "how much does parking cost",
        "i put my back out and now i get a headache too",  # our muscle strain
        "my back keeps hurting and my stomach is upset",  # "my back" is still the back
        "the headache went away but i keep getting back pain",
    ],
)
def test_anything_we_know_keeps_a_message_in_scope(guard, text):
    assert guard.outside_terms(text, entities_in(text)) == []


def _message(text: str, intent: str):
    from rasa.shared.nlu.training_data.message import Message

    m = Message(data={"text": text})
    m.set("intent", {"name": intent, "confidence": 0.8}, add_to_output=True)
    m.set("intent_ranking", [{"name": intent, "confidence": 0.8}], add_to_output=True)
    m.set("entities", entities_in(text), add_to_output=True)
    return m


def test_only_content_intents_are_overridden_and_the_ranking_is_kept(guard):
    flipped, kept = guard.process(
        [_message("my eyes itch", "describe_symptoms"), _message("my eyes itch", "greet")]
    )
    assert flipped.get("intent")["name"] == OUT_OF_SCOPE
    assert flipped.get(SCOPE_KEY) == ["eyes", "itch"]
    assert [r["name"] for r in flipped.get("intent_ranking")] == [OUT_OF_SCOPE, "describe_symptoms"]
    assert kept.get("intent")["name"] == "greet"


def test_an_out_of_scope_message_names_what_is_outside(guard):
    """Already out_of_scope from the classifier: the words outside are named all the same, so
    that the dialogue does not take "my tooth is throbbing" for more of a back-pain story."""
    tooth, kept = guard.process(
        [
            _message("also my tooth is really throbbing, any ideas", OUT_OF_SCOPE),
            _message("my lower back aches", OUT_OF_SCOPE),
        ]
    )
    assert tooth.get("intent")["name"] == OUT_OF_SCOPE
    assert "tooth" in tooth.get(SCOPE_KEY)
    assert not kept.get(SCOPE_KEY)  # nothing outside named


@pytest.mark.parametrize(
    ("text", "intent"),
    [("severe pain in the ear", "inform"), ("my eyes hurt, can i come in", "request_appointment")],
)
def test_a_misread_form_answer_or_booking_about_something_else_is_out_of_scope(guard, text, intent):
    (message,) = guard.process([_message(text, intent)])
    assert message.get("intent")["name"] == OUT_OF_SCOPE


def _guarded_examples(load_examples):
    config = ScopeGuard.get_default_config()
    intents = set(config["intents"]) | set(config["misread_intents"])
    files = [p for p in (ROOT / "data" / "nlu").glob("*.yml") if p.name != "kb_generated.yml"]
    files += sorted((ROOT / "tests").glob("nlu_holdout*.yml"))
    for path in files:
        for ex in load_examples(Path(path)):
            if ex.intent.split("/", 1)[0] in intents:
                yield path.name, ex


def test_no_in_scope_training_or_held_out_example_is_flipped(guard, nlu_examples):
    flipped = [
        (name, ex.intent, ex.text)
        for name, ex in _guarded_examples(nlu_examples)
        if guard.outside_terms(ex.text, entities_in(ex.text))
    ]
    assert not flipped, flipped


def test_a_back_or_leg_problem_is_kept_in_scope(guard):
    message = _message("I have back pain. Please help.", OUT_OF_SCOPE)
    message.set(
        "intent_ranking",
        [
            {"name": OUT_OF_SCOPE, "confidence": 0.7},
            {"name": "goodbye", "confidence": 0.2},
            {"name": "describe_symptoms", "confidence": 0.1},
        ],
    )
    (kept,) = guard.process([message])
    assert kept.get("intent")["name"] == "describe_symptoms"
    assert kept.get("kept_in_scope_by") == ["low_back_pain"]


@pytest.mark.parametrize(
    "text",
    ["my lips are still numb from the dentist", "pins and needles in my fingers, carpal tunnel?"],
)
def test_an_outside_word_does_not_keep_it(guard, text):
    (message,) = guard.process([_message(text, OUT_OF_SCOPE)])
    assert message.get("intent")["name"] == OUT_OF_SCOPE


def _faq_message(faq_confidence: float):
    from rasa.shared.nlu.training_data.message import Message

    m = Message(data={"text": "what are the treatments for chronic low back pain"})
    m.set("intent", {"name": "faq", "confidence": 0.8}, add_to_output=True)
    ranking = [{"name": "faq", "confidence": 0.8}, {"name": "ask_treatment", "confidence": 0.15}]
    m.set("intent_ranking", ranking, add_to_output=True)
    picked = {"intent_response_key": "faq/licensed", "confidence": faq_confidence}
    m.set("response_selector", {"faq": {"response": picked, "ranking": [picked]}})
    return m


def test_faq_gate_passes_an_unrecognised_faq_to_the_next_intent():
    from addons.faq_gate import FaqGate

    gate = FaqGate(FaqGate.get_default_config())
    (unsure,) = gate.process([_faq_message(0.1)])
    assert unsure.get("intent")["name"] == "ask_treatment"
    assert unsure.get("intent")["confidence"] == pytest.approx(0.75)  # 0.15 / (1 - 0.8)
    assert [r["name"] for r in unsure.get("intent_ranking")] == ["ask_treatment", "faq"]
    (sure,) = gate.process([_faq_message(0.8)])
    assert sure.get("intent")["name"] == "faq"


@pytest.mark.parametrize(
    "text", ["you can reach me on zoe.obrien@example.com", "my number is 312 555 0142"]
)
def test_faq_gate_takes_contact_details_as_an_answer(text):
    """Giving a phone number or email is `inform` (a form answer), not the contact FAQ."""
    from addons.faq_gate import FaqGate

    gate = FaqGate(FaqGate.get_default_config())
    message = _faq_message(0.9)
    message.set("text", text)
    (parsed,) = gate.process([message])
    assert parsed.get("intent")["name"] == "inform"
    (question,) = gate.process([_faq_message(0.9)])  # no number or address: still the FAQ
    assert question.get("intent")["name"] == "faq"
