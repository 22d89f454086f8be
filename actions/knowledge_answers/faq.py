"""Clinic FAQs: the answer to the FAQ the ResponseSelector picked (or a button named), from
knowledge/faq.yml with the clinic's facts filled in from clinic.yml."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.chat import button
from actions.knowledge_answers.topics import FAQ, config, follow_up_offer, selected_faq
from actions.triage.replies import add_advice
from clinic.knowledge import KnowledgeBase, knowledge
from clinic.knowledge.wording import lower_first, render_faq


def faq_messages(kb: KnowledgeBase, faq_id: str) -> list[dict[str, Any]]:
    """The answer, with a button to the treatment or condition it relates to."""
    faq = kb.faqs[faq_id]
    buttons = []
    if faq.treatment:
        name = lower_first(kb.treatments[faq.treatment].name)
        buttons.append(button(f"More about {name}", "ask_treatment", treatment=faq.treatment))
    if faq.condition:
        name = lower_first(kb.conditions[faq.condition].name)
        buttons.append(button(f"More about {name}", "ask_condition_info", condition=faq.condition))
    return [{"text": render_faq(kb, faq), "buttons": buttons}]


class ActionAnswerFaq(Action):
    """Answers faq/<id>; offers the message's other question if it asked two things."""

    def name(self) -> str:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge()
        faq_id = selected_faq(tracker.latest_message)
        if faq_id not in kb.faqs:
            dispatcher.utter_message(text=config()["wording"]["unsure_no_guess"])
            return []
        messages = add_advice(faq_messages(kb, faq_id), tracker.latest_message or {})
        offer = follow_up_offer(tracker, kb, f"{FAQ}/{faq_id}")
        if offer:
            messages.append(offer)
        for m in messages:
            dispatcher.utter_message(text=m["text"], buttons=m["buttons"] or None)
        return subject_events(kb, faq_id)


def subject_events(kb: KnowledgeBase, faq_id: str) -> list[EventType]:
    """A FAQ about a treatment or condition makes it the subject ("does it hurt?" next)."""
    faq = kb.faqs[faq_id]
    if faq.treatment:
        return [SlotSet("treatment", faq.treatment), SlotSet("topic", "treatment")]
    if faq.condition:
        return [SlotSet("condition", faq.condition), SlotSet("topic", "condition")]
    return []
