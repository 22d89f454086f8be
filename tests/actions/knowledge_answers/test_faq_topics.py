"""Clinic FAQs, the two-stage fallback's guesses and the second question in a message,
without the trained model: knowledge validation, rendering and the pure helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from actions.general.fallback import ActionOfferTopics
from actions.knowledge_answers.faq import ActionAnswerFaq, faq_messages
from actions.knowledge_answers.topics import Topic, likely_topics, second_question, selected_faq
from clinic.knowledge import KnowledgeBaseError, load_knowledge
from clinic.knowledge.wording import hours_text, render_faq
from tests.helpers import ROOT, make_tracker, run_action

KNOWLEDGE = ROOT / "knowledge"

#: The FAQ topics issue 6 names, by id in knowledge/faq.yml.
REQUIRED_FAQS = {
    "opening_hours",
    "location_parking",
    "contact_phone",
    "insurance",
    "cost",
    "first_visit",
    "what_to_bring",
    "how_many_visits",
    "adjustment_safety",
    "imaging_needed",
    "referral_needed",
    "telehealth",
    "ice_or_heat",
    "sitting_posture",
    "exercises",
    "sleeping_position",
    "when_to_see_doctor",
}


def test_required_faqs_exist_with_titles_sources_and_training_examples(kb):
    from rasa.shared.nlu.training_data.loading import load_data

    assert REQUIRED_FAQS <= set(kb.faqs)
    examples = load_data(str(ROOT / "data" / "nlu" / "faq.yml")).intent_examples
    per_faq: dict[str, int] = {}
    for m in examples:
        per_faq[m.get_full_intent()] = per_faq.get(m.get_full_intent(), 0) + 1
    for faq in kb.faqs.values():
        assert faq.sources and faq.title
        assert per_faq.get(f"faq/{faq.id}", 0) >= 12, faq.id
    assert set(per_faq) == {f"faq/{f}" for f in kb.faqs}


def test_clinic_facts_are_filled_in_from_clinic_yml(kb):
    text = render_faq(kb, kb.faqs["opening_hours"])
    assert hours_text(kb.clinic.hours) in text
    assert "{" not in text and "}" not in text
    assert kb.clinic.practice.parking in render_faq(kb, kb.faqs["location_parking"])
    assert kb.clinic.phone in render_faq(kb, kb.faqs["contact_phone"])


def test_hours_in_words_join_days_with_the_same_hours(kb):
    text = hours_text(kb.clinic.hours)
    assert text.startswith("Monday to Thursday 8:00–12:00 and 13:00–18:00; Friday")
    assert text.endswith("closed Sunday")


def test_generated_responses_match_the_knowledge_base(kb):
    generated = yaml.safe_load((ROOT / "domain" / "faq_generated.yml").read_text())
    responses = generated["responses"]
    assert set(responses) == {f"utter_faq/{f}" for f in kb.faqs}
    for faq in kb.faqs.values():
        assert responses[f"utter_faq/{faq.id}"][0]["text"] == render_faq(kb, faq)


def test_every_faq_has_its_words_as_a_lookup_table(kb):
    """The FAQ `words` reach the classifiers as one lookup table per FAQ (`make kb`)."""
    generated = yaml.safe_load((ROOT / "data" / "nlu" / "kb_generated.yml").read_text())
    tables = {t["lookup"]: t["examples"].split("\n") for t in generated["nlu"] if "lookup" in t}
    for faq in kb.faqs.values():
        assert faq.words, faq.id
        assert {f"- {w}" for w in faq.words} <= set(tables[f"faq_{faq.id}"]), faq.id


@pytest.fixture()
def knowledge_copy(tmp_path):
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def _edit_first_faq(directory: Path, **changes) -> None:
    path = directory / "faq.yml"
    data = yaml.safe_load(path.read_text())
    data["faqs"][0].update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"answer": "Open {opening_times}."}, "unknown placeholder"),
        ({"sources": ["NOT-A-SOURCE"]}, "unknown source 'NOT-A-SOURCE'"),
        ({"treatment": "yoga_retreat"}, "unknown treatment 'yoga_retreat'"),
        ({"title": "A title far too long to fit on any chat button"}, "title"),
        ({"sources": []}, "sources"),
        ({"words": ["ring", ""]}, "words"),
    ],
)
def test_a_broken_faq_entry_is_reported_by_file_and_entry(knowledge_copy, changes, message):
    first = yaml.safe_load((knowledge_copy / "faq.yml").read_text())["faqs"][0]["id"]
    _edit_first_faq(knowledge_copy, **changes)
    with pytest.raises(KnowledgeBaseError) as err:
        load_knowledge(knowledge_copy)
    assert "faq.yml" in str(err.value) and first in str(err.value) and message in str(err.value)


def test_faq_answer_offers_the_related_treatment(kb):
    faq = next(f for f in kb.faqs.values() if f.treatment)
    messages = faq_messages(kb, faq.id)
    assert (
        messages[0]["buttons"][0]["payload"] == f'/ask_treatment{{"treatment": "{faq.treatment}"}}'
    )


def _selector(*keys: str) -> dict:
    ranking = [{"intent_response_key": k, "confidence": 0.5 / (i + 1)} for i, k in enumerate(keys)]
    return {"faq": {"response": {"intent_response_key": keys[0]}, "ranking": ranking}}


def test_a_button_topic_wins_over_the_selector():
    message = {
        "entities": [{"entity": "faq_topic", "value": "cost"}],
        "response_selector": _selector("faq/insurance"),
    }
    assert selected_faq(message) == "cost"
    assert selected_faq({"response_selector": _selector("faq/insurance")}) == "insurance"


def test_answer_faq_action_uses_the_clinic_facts(kb):
    tracker = make_tracker("where can i park", intent="faq")
    tracker.latest_message["response_selector"] = _selector("faq/location_parking")
    messages, _ = run_action(ActionAnswerFaq(), tracker)
    assert kb.clinic.practice.parking in messages[0]["text"]


def test_likely_topics_expand_faq_and_keep_entities(kb):
    message = {
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.3},
            {"name": "faq", "confidence": 0.25},
            {"name": "greet", "confidence": 0.2},
            {"name": "ask_causes", "confidence": 0.2},
        ],
        "entities": [{"entity": "condition", "value": "sciatica"}],
        "response_selector": _selector("faq/cost", "faq/insurance"),
    }
    topics = likely_topics(message, kb)
    assert [t.intent for t in topics] == ["faq/cost", "faq/insurance"]
    message["response_selector"] = _selector("faq/cost")
    topics = likely_topics(message, kb)
    assert [t.intent for t in topics] == ["faq/cost", "ask_causes"]
    assert topics[1].button(kb) == {
        "title": "What causes sciatica",
        "payload": '/ask_causes{"condition": "sciatica"}',
    }


def test_topic_titles_are_plain_words(kb):
    assert Topic("ask_treatment", {"treatment": "cold_laser"}).title(kb).startswith("About cold")
    assert Topic("ask_treatment").title(kb) == "Treatments we offer"
    assert Topic("faq/opening_hours").title(kb) == kb.faqs["opening_hours"].title


def _fallback_tracker(previous_intent: str | None):
    tracker = make_tracker("hmm the thing with the back", intent="nlu_fallback")
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": "ask_symptoms", "confidence": 0.25},
        {"name": "ask_causes", "confidence": 0.2},
    ]
    if previous_intent:
        earlier = {
            "event": "user",
            "text": "x",
            "parse_data": {"intent": {"name": previous_intent}},
        }
        tracker.events.insert(0, earlier)
    return tracker


def test_first_fallback_offers_two_topics_and_a_person(kb):
    messages, _ = run_action(ActionOfferTopics(), _fallback_tracker("greet"))
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/ask_symptoms", "/ask_causes", "/deny", "/request_human"]


def test_no_topic_is_guessed_for_text_that_is_no_words_and_no_button_twice(kb):
    tracker = _fallback_tracker("greet")
    tracker.latest_message["intent_ranking"][1]["name"] = "request_human"
    messages, _ = run_action(ActionOfferTopics(), tracker)
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads.count("/request_human") == 1
    tracker.latest_message["not_language"] = True
    messages, _ = run_action(ActionOfferTopics(), tracker)
    assert "put it another way" in messages[0]["text"]


def test_second_fallback_in_a_row_stops_guessing_and_offers_a_person(kb):
    messages, _ = run_action(ActionOfferTopics(), _fallback_tracker("nlu_fallback"))
    assert "still" in messages[0]["text"] and kb.clinic.phone in messages[0]["text"]
    assert "/request_human" in [b["payload"] for b in messages[0]["buttons"]]


@pytest.mark.parametrize(
    ("text", "answered", "expected"),
    [
        ("what causes sciatica and how is it treated?", "ask_causes", "ask_treatment"),
        ("How is sciatica treated? And what causes it?", "ask_treatment", "ask_causes"),
        (
            "what is a slipped disc, how long does it take to heal?",
            "ask_condition_info",
            "ask_outlook",
        ),
        ("how much is a visit and do you take insurance?", "faq/cost", "faq/insurance"),
        ("what are your hours? also where do i park", "faq/opening_hours", "faq/location_parking"),
        ("what is sciatica?", "ask_condition_info", None),
        ("my back hurts and I tried treatments but nothing helped", "describe_symptoms", None),
        ("what causes sciatica and what causes a slipped disc?", "ask_causes", None),
    ],
)
def test_the_other_question_in_a_message(text, answered, expected):
    found = second_question(text, answered)
    assert (found[1] if found else None) == expected


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("What causes sciatica, and how is spinal stenosis treated?", "spinal_stenosis"),
        ("what causes sciatica and how is it treated?", "sciatica"),
    ],
)
def test_the_offer_for_the_other_question_is_about_what_that_question_names(kb, text, condition):
    from actions.knowledge_answers.topics import follow_up_offer
    from tests.helpers import entities_in

    tracker = make_tracker(text, entities_in(text), intent="ask_causes")
    offer = follow_up_offer(tracker, kb, "ask_causes")
    assert offer["buttons"][0]["payload"] == f'/ask_treatment{{"condition": "{condition}"}}'


def test_a_message_padded_with_whitespace_is_read_as_its_words():
    from actions.knowledge_answers.topics import MAX_SCANNED_CHARS, clauses

    assert clauses("what is sciatica?" + " \n" * 5000 + "how is it treated?") == [
        "what is sciatica?",
        "how is it treated?",
    ]
    assert sum(map(len, clauses("why " * 10_000))) <= MAX_SCANNED_CHARS
