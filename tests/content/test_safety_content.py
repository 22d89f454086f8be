"""The clinical review's safety content reaches patients: whole conversations through the
trained model and the real action server (docs/clinical-review.md).

Pregnancy warning signs, blood-clot advice, the inflammatory-back-pain prompt and the advice
about back pain that starts after 50 appear in the answers to messages that raise them; a
calf that sounds like a blood clot gets same-day advice, and with breathlessness the
emergency answer.
"""

from __future__ import annotations

import pytest

from clinic.knowledge.wording import render_faq

pytestmark = pytest.mark.model


def texts(replies):
    return "\n".join(r.get("text", "") for r in replies)


def test_a_pregnancy_question_gets_the_warning_signs(chat, kb):
    text = texts(chat("is it safe to see a chiropractor while I'm pregnant?"))
    assert render_faq(kb, kb.faqs["pregnancy"]) in text
    for sign in ("early labour", "bleeding", "waters", "fever", "pee", "ribs", "midwife"):
        assert sign in text, sign
    assert chat.slot("triage_level") in (None, "routine")  # a question, not a red flag


def test_back_pain_late_in_pregnancy_goes_to_the_maternity_team(chat, kb):
    replies = chat("I'm 30 weeks pregnant and my lower back really hurts")
    text = texts(replies)
    assert text.startswith("Please call your midwife")
    assert kb.red_flags["pregnancy_back_pain"].reason in text
    assert chat.slot("triage_level") == "urgent"


def test_a_swollen_red_hot_calf_gets_same_day_advice(chat, kb):
    text = texts(chat("my calf is swollen, red and hot"))
    assert kb.red_flags["blood_clot"].reason in text
    assert kb.clinic.urgent_care in text
    assert "commonly linked to" not in text  # never a sciatica answer
    assert chat.slot("triage_level") == "urgent"


def test_a_swollen_calf_with_breathlessness_is_an_emergency(chat, kb):
    replies = chat("my calf is swollen, red and hot, and now I'm short of breath")
    text = texts(replies)
    assert kb.red_flags["blood_clot_lungs"].reason in text
    assert kb.clinic.emergency_number in text
    assert chat.slot("triage_level") == "emergency"


def test_the_breathlessness_can_come_a_sentence_later(chat, kb):
    text = texts(chat("My leg has been swollen and red since Tuesday. Today I'm breathless."))
    assert kb.red_flags["blood_clot_lungs"].reason in text
    assert kb.clinic.emergency_number in text


def test_asking_whether_calf_pain_is_a_clot_gets_the_clot_advice(chat, kb):
    text = texts(chat("could my calf pain be a blood clot?"))
    assert kb.red_flags["blood_clot"].reason in text


def test_inflammatory_back_pain_is_explained_with_a_doctors_check(chat, kb):
    condition = kb.conditions["inflammatory_back_pain"]
    text = texts(chat("what is ankylosing spondylitis?"))
    assert condition.summary in text
    assert kb.conditions["osteoarthritis"].summary not in text
    assert chat.slot("condition") == "inflammatory_back_pain"
    symptoms = texts(chat("what are the symptoms?"))
    assert condition.urgent in symptoms


def test_a_description_with_inflammatory_signs_gets_the_prompt(chat, kb):
    text = texts(chat("I have psoriasis and my lower back has been stiff for months"))
    assert kb.red_flags["inflammatory_conditions"].reason in text


def test_new_back_pain_after_50_gets_the_advice(chat, kb):
    text = texts(chat("I'm 64 and my back pain started a couple of weeks ago"))
    assert kb.red_flags["age_new_pain"].reason in text
    assert chat.slot("triage_level") in (None, "routine")  # advice, not a red flag


def test_when_to_worry_names_back_pain_that_starts_after_50(chat, kb):
    text = texts(chat("when should I be worried about back pain and see a doctor?"))
    assert render_faq(kb, kb.faqs["when_to_see_doctor"]) in text
    assert "after 50" in text


def test_breathlessness_in_a_later_message_makes_a_swollen_calf_an_emergency(chat, kb):
    """People type their story in pieces: the breathlessness can come a message later."""
    assert kb.red_flags["blood_clot"].reason in texts(
        chat("my left calf has gone really swollen and red, hurts to walk")
    )
    text = texts(chat("also i feel a bit short of breath today"))
    assert kb.red_flags["blood_clot_lungs"].reason in text
    assert kb.clinic.emergency_number in text
    assert chat.slot("triage_level") == "emergency"


def test_a_typo_in_pregnant_still_reaches_the_maternity_team(chat, kb):
    text = texts(chat("im 31 weeks pregant and my lower back is killing me"))
    assert text.startswith("Please call your midwife")
