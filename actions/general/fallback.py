"""The two-stage fallback: when the classifier is unsure, offer the two most likely topics as
buttons; if the next message is not understood either, stop guessing, say what the assistant
can do and offer a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.chat import book_button
from actions.knowledge_answers.topics import config, likely_topics
from clinic.knowledge import knowledge
from clinic.knowledge.wording import fill

NLU_FALLBACK = "nlu_fallback"
HUMAN_BUTTON = {"title": "Talk to a person", "payload": "/request_human"}
GENERAL_TOPICS = [
    {"title": "Conditions", "payload": "/ask_condition_info"},
    {"title": "Treatments", "payload": "/ask_treatment"},
]


def previous_user_intent(tracker: Tracker) -> str | None:
    """The intent of the user message before the latest one."""
    seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen += 1
            if seen == 2:
                return ((event.get("parse_data") or {}).get("intent") or {}).get("name")
    return None


class ActionOfferTopics(Action):
    """Stage one offers guesses; stage two (a second fallback in a row) stops guessing."""

    def name(self) -> str:
        return "action_offer_topics"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge()
        wording = config()["wording"]
        # Text that is no words at all (addons/nonsense_gate.py) has no topic to guess.
        guessable = not tracker.latest_message.get("not_language")
        topics = likely_topics(tracker.latest_message, kb) if guessable else []
        if previous_user_intent(tracker) == NLU_FALLBACK:
            dispatcher.utter_message(
                text=fill(wording["still_unsure"], kb),
                buttons=[HUMAN_BUTTON, book_button()],
            )
            return []
        if not topics:
            dispatcher.utter_message(
                text=wording["unsure_no_guess_first"],
                buttons=[*GENERAL_TOPICS, HUMAN_BUTTON],
            )
            return []
        buttons = [
            t.button(kb) for t in topics if t.button(kb)["payload"] != HUMAN_BUTTON["payload"]
        ]
        buttons += [{"title": wording["none_of_these"], "payload": "/deny"}, HUMAN_BUTTON]
        dispatcher.utter_message(text=wording["unsure"], buttons=buttons)
        return []
