"""Session start: put the clinic's details in slots that the domain's responses use."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.knowledge import knowledge

CLINIC_SLOTS = ("clinic_name", "clinic_phone", "emergency_number", "assistant_name")


def clinic_slot_values() -> dict[str, str]:
    clinic = knowledge().clinic
    return {
        "clinic_name": clinic.name,
        "clinic_phone": clinic.phone,
        "emergency_number": clinic.emergency_number,
        "assistant_name": clinic.assistant_name,
    }


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
