"""Session start (the clinic's details into slots) and the dialogue-level fallback."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    EventType,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher

from actions.chat import say
from clinic.knowledge import knowledge
from clinic.knowledge.wording import clinic_fields

CLINIC_SLOTS = ("clinic_name", "clinic_phone", "emergency_number", "assistant_name")


def clinic_slot_values() -> dict[str, str]:
    """The clinic slots the domain's responses quote, named like every other placeholder."""
    fields = clinic_fields(knowledge())
    return {name: fields[name] for name in CLINIC_SLOTS}


class ActionSessionStart(Action):
    """Start a session, carry over the conversation's slots, and fill the clinic slots."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        carried = [
            SlotSet(name, value)
            for name, value in tracker.current_slot_values().items()
            if value is not None and name not in CLINIC_SLOTS and name != "requested_slot"
        ]
        clinic = [SlotSet(name, value) for name, value in clinic_slot_values().items()]
        return [SessionStarted(), *carried, *clinic, ActionExecuted("action_listen")]


class ActionDefaultFallback(Action):
    """When no next action is confident: say so kindly, offer the phone, and forget the
    unclear message so the conversation continues as it was."""

    def name(self) -> str:
        return "action_default_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text=say("fallback"))
        return [UserUtteranceReverted()]
