"""Follow-up questions about the subject under discussion.

"Is it serious?", "will it go away on its own?", "what can I do at home?", "can I still have
it if I'm pregnant?": short questions that name no subject of their own. The dialogue policy
(addons/context_policy.py) sends them here when the conversation has a subject (a condition,
a treatment, or the patient's own case); clinic/subject.py says which kind of follow-up a
message is. Every answer is composed from the knowledge base by the functions of explain.py
and faq.py beside this module, so nothing here states a fact of its own.
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from actions.chat import Message, book_button, bubble, bullets, say, slot_before_latest_message
from actions.knowledge_answers.answers import KnowledgeAction
from actions.knowledge_answers.asks import Answer, Ask
from actions.knowledge_answers.explain import (
    condition_buttons,
    describe_treatment,
    explain_causes,
    explain_condition,
    explain_condition_field,
    explain_leg_pain,
    explain_symptoms,
    list_treatments,
)
from actions.knowledge_answers.faq import faq_messages
from actions.triage.symptom_check import ASKING_SLOT, question
from clinic.intake.case import Case
from clinic.knowledge import CONDITION, TREATMENT, Condition, KnowledgeBase, Treatment
from clinic.subject import contraindication_terms, follow_up_kind, related_sentences, subject_texts

#: Clinic FAQs that answer a follow-up whatever the subject.
SESSIONS_FAQ = "how_many_visits"
CASE_FAQS = {
    "go_away": "not_improving",
    "how_long": "not_improving",
    "what_to_do": "rest_or_move",
    "contraindication": "medical_conditions_treatment",
    "evidence": "how_many_visits",
}
PREGNANCY_FAQ = "pregnancy"


def _self_care(kb: KnowledgeBase, condition: Condition | None) -> list[Treatment]:
    """Treatments people do themselves: for the condition, or all of them."""
    pool = kb.treatments_for(condition.id) if condition else list(kb.treatments.values())
    return [t for t in pool if t.kind == "self_care"]


def _self_care_lines(treatments: list[Treatment]) -> str:
    return bullets([f"{t.name}: {t.summary}" for t in treatments])


def _sentences_naming(text: str, terms: list[str]) -> list[str]:
    """The sentences of `text` that name one of `terms` (word stems: "pregnan", "osteopor")."""
    stems = [t[:6] for t in terms]
    return [s for s in re.split(r"(?<=[.!?])\s+", text) if any(st in s.lower() for st in stems)]


def _with_buttons(messages: list[Message], buttons: list[dict[str, str]]) -> list[Message]:
    messages[-1]["buttons"] = buttons
    return messages


# --- a condition --------------------------------------------------------------------------


def condition_follow_up(kb: KnowledgeBase, c: Condition, kind: str | None, ask: Ask, text: str):
    """The answer to a follow-up about a condition."""
    if kind == "serious":
        messages = [
            bubble(say("follow_serious", name=c.name, outlook=c.outlook)),
            bubble(say("condition_urgent", urgent=c.urgent)),
        ]
        return _with_buttons(messages, condition_buttons(c, skip=""))
    if kind in ("go_away", "how_long"):
        return explain_condition_field(c, ask, "outlook", "ask_outlook")
    if kind in ("what_to_do", "treatment", "evidence"):
        return list_treatments(kb, c, ask)
    if kind == "self_care":
        text_ = say("follow_self_care", name=c.name, items=_self_care_lines(_self_care(kb, c)))
        return _with_buttons([bubble(text_)], condition_buttons(c, skip=""))
    if kind in ("hurt", "symptoms"):
        return explain_symptoms(kb, c, ask)
    if kind == "causes":
        return explain_causes(kb, c, ask)
    if kind == "sessions":
        return faq_messages(kb, SESSIONS_FAQ)
    if kind == "leg_pain":
        return explain_leg_pain(kb, ask)
    if kind == "contraindication":
        return condition_cautions(kb, c, contraindication_terms(text))
    if kind == "definition":
        return explain_condition(kb, c, ask)
    found = related_sentences(subject_texts(kb, "condition", c.id), text)
    if found:
        messages = [bubble(say("follow_related", name=c.name, items=bullets(found)))]
        return _with_buttons(messages, condition_buttons(c, skip=""))
    return _with_buttons(
        [bubble(say("follow_unclear", name=c.name))], condition_buttons(c, skip="")
    )


def condition_cautions(kb: KnowledgeBase, c: Condition, terms: list[str]) -> list[Message]:
    """Which of a condition's options need care with a health situation ("osteoporosis")."""
    lines = []
    for t in kb.treatments_for(c.id):
        named = _sentences_naming(t.not_for, terms)
        if named:
            lines.append(f"{t.name}: {' '.join(named)}")
    joined = " and ".join(terms)
    if not lines:
        messages = [bubble(say("follow_not_for_none", name=c.name, terms=joined))]
    else:
        messages = [
            bubble(say("follow_not_for_condition", name=c.name, terms=joined, items=bullets(lines)))
        ]
    if any(t.startswith(("pregnan", "pregant", "expect", "breast")) for t in terms):
        messages += faq_messages(kb, PREGNANCY_FAQ)
    return _with_buttons(messages, condition_buttons(c, skip=""))


# --- a treatment ----------------------------------------------------------------------------

_TREATMENT_ASPECTS = {
    "hurt": "session",
    "how_long": "session",
    "definition": None,
    "evidence": "evidence",
    "go_away": "evidence",
    "serious": "suitability",
    "what_to_do": "suitability",
}


def treatment_follow_up(kb: KnowledgeBase, t: Treatment, kind: str | None, ask: Ask, text: str):
    """The answer to a follow-up about a treatment."""
    if kind == "sessions":
        return describe_treatment(kb, t, _aspect(ask, "session")) + faq_messages(kb, SESSIONS_FAQ)
    if kind == "contraindication":
        named = _sentences_naming(t.not_for, contraindication_terms(text))
        not_for = " ".join(named) if named else t.not_for
        messages = [bubble(say("follow_not_for", name=t.name, not_for=not_for))]
        if any(
            s.startswith(("pregnan", "pregant", "expect")) for s in contraindication_terms(text)
        ):
            messages += faq_messages(kb, PREGNANCY_FAQ)
        return _with_buttons(messages, [book_button()] if t.offered else [])
    if kind == "self_care":
        items = _self_care_lines(_self_care(kb, None))
        return [bubble(say("follow_self_care_case", items=items), [book_button()])]
    if kind is None:
        found = related_sentences(subject_texts(kb, "treatment", t.id), text)
        if found:
            messages = [bubble(say("follow_related", name=t.name, items=bullets(found)))]
            return _with_buttons(messages, [book_button()] if t.offered else [])
    aspect = _TREATMENT_ASPECTS.get(kind or "", ask.aspect)
    return describe_treatment(kb, t, _aspect(ask, aspect))


def _aspect(ask: Ask, aspect: str | None) -> Ask:
    """The question as a follow-up on this treatment, about one aspect."""
    ask.aspect, ask.topic = aspect, "treatment"
    ask.previous_treatment = ask.treatment
    return ask


# --- the patient's own case -----------------------------------------------------------------


def case_follow_up(kb: KnowledgeBase, case: Case, kind: str | None, flagged: bool, text: str):
    """The answer to a follow-up about the patient's own pain: general advice from the
    knowledge base and an examination, never a judgement about them."""
    book = [book_button()]
    if kind == "serious":
        noted = say("follow_case_flags") if flagged else say("follow_case_no_flags")
        messages = [bubble(say("follow_case_serious", noted=noted))]
        return _with_buttons(messages + faq_messages(kb, "when_to_see_doctor"), book)
    if kind == "self_care":
        items = _self_care_lines(_self_care(kb, None))
        return [bubble(say("follow_self_care_case", items=items))] + _with_buttons(
            faq_messages(kb, "ice_or_heat"), book
        )
    if kind == "what_to_do":
        messages = [bubble(say("follow_case_what_to_do"))] + faq_messages(kb, "rest_or_move")
        return _with_buttons(messages, book)
    if kind == "sessions":
        return _with_buttons(faq_messages(kb, SESSIONS_FAQ), book)
    if kind == "leg_pain":
        return explain_leg_pain(kb, Ask())
    if kind == "contraindication":
        terms = contraindication_terms(text)
        if any(t.startswith(("pregnan", "pregant", "expect")) for t in terms):
            return _with_buttons(faq_messages(kb, PREGNANCY_FAQ), book)
        return _with_buttons(faq_messages(kb, CASE_FAQS["contraindication"]), book)
    if kind == "causes":
        # "Could my job be causing it?" / "I had covid, could that be why?": what is known
        # to play a part, and what else can cause back pain; never a verdict on their case.
        messages = [bubble(say("not_a_diagnosis"))] + faq_messages(kb, "lifestyle_factors")
        return _with_buttons(messages + faq_messages(kb, "other_causes"), book)
    faq = CASE_FAQS.get(kind or "", "not_improving")
    return _with_buttons(faq_messages(kb, faq), book)


# --- the action -------------------------------------------------------------------------------


class ActionFollowUp(KnowledgeAction):
    """Answers a short follow-up about the conversation's subject (`topic` slot)."""

    action_name, intent = "action_follow_up", ""

    def answer(self, kb: KnowledgeBase, ask: Ask) -> Answer:
        kind = follow_up_kind(self.text)
        if kind == "contraindication":
            ask = self.without_situations(ask)
        condition = kb.conditions.get(ask.first(CONDITION) or "")
        treatment = kb.treatments.get(ask.first(TREATMENT) or "")
        if treatment or (not condition and ask.topic == "treatment"):
            t = treatment or kb.treatments.get(ask.treatment or "")
            if t is not None:
                return Answer(treatment_follow_up(kb, t, kind, ask, self.text), treatment=t.id)
        if condition or ask.topic == "condition":
            c = condition or kb.conditions.get(ask.condition or "")
            if c is not None:
                return Answer(condition_follow_up(kb, c, kind, ask, self.text), condition=c.id)
        case = Case.from_slot(self.tracker.get_slot("case"))
        flagged = self.tracker.get_slot("triage_level") in ("emergency", "urgent")
        messages = case_follow_up(kb, case, kind, flagged, self.text)
        asking = self.tracker.get_slot(ASKING_SLOT)
        if asking:
            # The question the story was at is still open: ask it again after the answer.
            messages.append(question(asking))
        return Answer(messages, subject="case")

    def without_situations(self, ask: Ask) -> Ask:
        """ "What if I've had a spinal fusion?": a treatment named after "if" is the patient's
        situation, not the subject; the subject stays the one under discussion."""
        cut = re.search(r"\b(if|since|after|with)\b", self.text.lower())
        if not cut:
            return ask
        for entity in (self.tracker.latest_message or {}).get("entities") or []:
            label, value, start = entity.get("entity"), entity.get("value"), entity.get("start")
            named = ask.mentions.get(label, [])
            if isinstance(start, int) and start > cut.start() and value in named:
                named.remove(value)
        if ask.topic in ("condition", "treatment"):
            previous = slot_before_latest_message(self.tracker, ask.topic)
            setattr(ask, ask.topic, previous or getattr(ask, ask.topic))
        return ask

    async def run(self, dispatcher, tracker: Tracker, domain):
        self.tracker = tracker
        self.text = (tracker.latest_message or {}).get("text") or ""
        return await super().run(dispatcher, tracker, domain)
