"""Whole conversations through the trained model and the real action server."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.model


def texts(replies):
    return "\n".join(r.get("text", "") for r in replies)


def test_greeting_names_the_clinic_and_the_emergency_number(chat, kb):
    replies = chat("hello")
    text = texts(replies)
    assert kb.clinic.name in text and kb.clinic.emergency_number in text
    assert replies[-1].get("buttons")


def test_context_carries_over_from_a_condition_to_follow_ups(chat, kb):
    sciatica = kb.conditions["sciatica"]
    assert sciatica.summary in texts(chat("what is sciatica?"))
    assert chat.slot("condition") == "sciatica"
    causes = texts(chat("what causes it?"))
    assert all(c in causes for c in sciatica.causes)
    treatments = texts(chat("how do you treat that?"))
    assert treatments.startswith(f"{sciatica.name}, treatment options")
    assert chat.slot("condition") == "sciatica"


def test_without_context_the_bot_asks_which_condition(chat, kb):
    replies = chat("what causes it?")
    assert replies[-1]["buttons"][0]["payload"].startswith("/ask_causes")
    assert len(replies[-1]["buttons"]) == len(kb.conditions)
    # clicking a button answers about that condition
    clicked = replies[-1]["buttons"][1]["payload"]
    cid = list(kb.conditions)[1]
    assert kb.conditions[cid].causes[0] in texts(chat(clicked))


def test_treatment_questions_and_follow_up(chat, kb):
    t = kb.treatments["spinal_decompression"]
    first = texts(chat("what is spinal decompression and does it hurt?"))
    assert t.summary in first and t.session in first
    assert chat.slot("treatment") == "spinal_decompression"
    follow_up = texts(chat("does it actually work?"))
    assert t.evidence in follow_up and t.summary not in follow_up


def test_same_condition_under_two_names(chat, kb):
    disc = kb.conditions["herniated_disc"]
    text = texts(chat("is a slipped disc the same as a prolapsed disc?"))
    assert disc.summary in text and "names people use for the same problem" in text
    text = texts(chat("is a bulging disc the same as a herniated disc?"))
    assert disc.summary in text and disc.related_note in text  # a bulge is not a herniation


def test_leg_pain_link(chat, kb):
    text = texts(chat("why does my back problem make my leg hurt?"))
    assert kb.structures["nerve_roots"].leg_pain in text


def test_small_talk_and_out_of_scope(chat, kb):
    assert "virtual assistant" in texts(chat("am I talking to a real person?"))
    assert "outside what I can help with" in texts(
        chat("what's the weather like in Paris tomorrow?")
    )
    assert "What would you like to be seen for" in texts(chat("I'd like to book an appointment"))
    assert "Nothing has been booked" in texts(chat("never mind"))
    assert texts(chat("thanks!"))
    assert "Take care" in texts(chat("bye"))


def test_a_red_flag_wins_wherever_it_comes(chat, kb, action_db):
    """In a description, in the middle of the intake: the triage answer comes first."""
    from sqlalchemy import create_engine, text

    first = chat("I've had back pain for a week and since yesterday I can't feel my bum")
    assert kb.clinic.emergency_number in texts(first)
    assert not any(r.get("buttons") for r in first)
    assert chat.slot("triage_level") == "emergency"
    engine = create_engine(f"sqlite:///{action_db}")
    with engine.connect() as conn:
        rows = conn.execute(text("select level, flags from triage_events")).fetchall()
    assert ("emergency", "saddle_numbness") in rows


def test_a_hand_typed_payload_with_a_wrong_value_gets_a_reply_and_breaks_nothing(chat, kb):
    reply = chat('/ask_causes{"condition": {"a": 1}}')
    assert reply and chat.slot("condition") is None
    sciatica = kb.conditions["sciatica"]
    assert sciatica.summary in texts(chat("what is sciatica?"))
    assert sciatica.causes[0] in texts(chat("what causes it?"))


def test_a_clinic_question_during_the_story_is_answered_then_the_story_goes_on(chat, kb):
    chat("I get a sharp pain in my lower back when I bend over, for two weeks")
    asked = chat.slot("case_asking")
    assert asked == "travel"
    reply = texts(chat("where can I park?"))
    assert kb.clinic.practice.parking in reply
    assert chat.slot("case")["travel"] is None
    chat("down to my knee")
    assert chat.slot("case")["travel"] == "down to the knee"


def test_symptom_check_then_fragments_then_a_red_flag(chat, kb):
    reply = texts(chat("I get a sharp pain in my lower back when I bend over, for two weeks"))
    assert "commonly linked to" in reply and "not a diagnosis" in reply
    assert "Shall I ask" not in reply and "travel down your leg" in reply
    assert chat.slot("case")["duration"] == "2 weeks"
    texts(chat("down to my knee"))
    assert chat.slot("case")["travel"] == "down to the knee"
    urgent = texts(chat("oh and I've had a high temperature since last night"))
    assert kb.clinic.urgent_care in urgent
    assert chat.slot("triage_level") == "urgent"
    assert "virtual assistant" in texts(chat("are you a bot?"))  # and the chat goes on


def test_a_story_in_pieces_leaves_a_summary(chat):
    chat("my lower back aches after sitting at work, for about 3 weeks")
    for answer in ("it stays in my back", "no reason really", "about a 5", "sitting", "no"):
        if chat.slot("case_asking") is None:
            break
        chat(answer)
    summary = chat.slot("intake_summary")
    assert "How long: 3 weeks" in summary and "Travels: stays in the back" in summary
    assert chat.slot("case_asking") is None


# --- clinic FAQs, out of scope, the two-stage fallback, two questions at once ------------


def _payloads(reply) -> list[str]:
    return [b["payload"] for r in reply for b in r.get("buttons") or []]


def test_clinic_faqs_answer_with_the_clinics_own_facts(chat, kb):
    from clinic.knowledge.wording import hours_text

    assert hours_text(kb.clinic.hours) in texts(chat("what time do you open on saturdays?"))
    assert kb.clinic.practice.parking in texts(chat("is there anywhere to leave my car?"))
    assert kb.clinic.practice.insurance in texts(chat("do you take my health insurance?"))
    assert kb.clinic.practice.prices in texts(chat("how much do you charge for a visit?"))


def test_out_of_scope_says_what_the_assistant_does_and_offers_a_person(chat):
    reply = chat("can you recommend a good pizza place near me")
    assert "lower back and leg pain" in texts(reply)
    assert "/request_human" in _payloads(reply)
    chat("/request_human")
    assert chat.slot("requested_slot") == "patient_name"  # the call-back form has started


def test_two_stage_fallback_guesses_then_stops_guessing(chat, kb):
    """nlu_fallback with a classifier ranking, as the FallbackClassifier leaves it."""
    first = chat('/nlu_fallback{"condition": "sciatica"}')
    assert "put it another way" in texts(first) and "/request_human" in _payloads(first)
    second = chat("/nlu_fallback")
    assert "still" in texts(second) and kb.clinic.phone in texts(second)
    assert "/request_human" in _payloads(second)


def test_two_questions_get_one_answer_and_an_offer_for_the_other(chat, kb):
    sciatica = kb.conditions["sciatica"]
    reply = chat("what causes sciatica and how is it treated?")
    assert sciatica.causes[0] in texts(reply)
    assert "You also asked: How is it treated?" in texts(reply)
    offer = reply[-1]["buttons"][0]["payload"]
    assert offer == '/ask_treatment{"condition": "sciatica"}'
    assert texts(chat(offer)).startswith(f"{sciatica.name}, treatment options")


def test_a_faq_and_a_second_faq_in_one_message(chat, kb):
    reply = chat("how much is a first visit, and do you take insurance?")
    assert kb.clinic.practice.prices in texts(reply)
    offer = reply[-1]["buttons"][0]["payload"]
    assert offer == '/faq{"faq_topic": "insurance"}'
    assert kb.clinic.practice.insurance in texts(chat(offer))


def test_a_change_of_mind_at_the_read_back_keeps_the_day_and_reads_back_afresh(chat):
    """'Make it the afternoon' keeps Thursday and offers afternoon times; a new contact or
    'the first one' as a name never slips into the booking."""
    chat("can i book in for thursday about my sciatica")
    chat("first visit")
    chat("the first one")
    assert chat.slot("patient_name") is None  # asked next; "the first one" picked a time
    chat("Sam Lee")
    chat("312 555 0142")
    assert chat.slot("requested_slot") == "booking_confirmed"
    reply = chat("make it the afternoon instead")
    keys = [b["payload"].split('"appointment_slot": "')[1] for b in reply[-1]["buttons"]]
    assert keys and all(int(key[11:13]) >= 12 for key in keys)  # "2026-12-10T13:00|0"
    assert chat.slot("preferred_time").startswith("Thursday")
    readback = texts(chat("the first one"))
    assert "Thu" in readback and "13:" in readback and "Sam Lee" in readback
    readback = texts(chat("use my email instead: sam@example.com"))
    assert "sam@example.com" in readback and "Shall I book it?" in readback
    assert "You're booked" in texts(chat("yes"))
