"""Talking to a person: a call-back request handed to the clinic through the outbox.

"I want to talk to a person" works from anywhere (any form is left first, see
data/rules/booking.yml). The form asks only for what is not known yet (name, phone or email);
the request then goes to the clinic's system with the intake summary and triage level, by the
same persistent outbox as bookings (actions/records/handoff.py), so it is not lost if the clinic's
webhook is down.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.booking.reading import reason_from_conversation
from actions.booking.slots import BookingSlotValidation, red_flag_warning, text
from actions.records.bookings import request_callback

logger = logging.getLogger(__name__)


class ValidateCallbackForm(BookingSlotValidation):
    def name(self) -> str:
        return "validate_callback_form"


class ActionPrepareCallback(Action):
    """Before the call-back form: after a red flag, the urgent advice comes first."""

    def name(self) -> str:
        return "action_prepare_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        red_flag_warning(tracker, dispatcher)
        return [SlotSet("form_failures", None)]


class ActionRequestCallback(Action):
    """Queues the call-back request for the clinic's staff."""

    def name(self) -> str:
        return "action_request_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        name = tracker.get_slot("patient_name")
        try:
            request_callback(
                name=name,
                phone=tracker.get_slot("patient_phone"),
                email=tracker.get_slot("patient_email"),
                reason=tracker.get_slot("booking_reason")
                or reason_from_conversation(tracker)
                or "asked to talk to a person",
                intake_summary=tracker.get_slot("intake_summary") or "",
                triage_level=tracker.get_slot("triage_level") or "routine",
                conversation_id=tracker.sender_id,
            )
        except Exception as exc:  # a storage failure must still get a kind reply
            # The type only: database errors quote the row, which holds contact details.
            logger.error("storage failed in %s: %s", self.name(), type(exc).__name__)
            dispatcher.utter_message(text=text("callback_failed"))
            return []
        first = (name or "").split()[0] if name else "there"
        dispatcher.utter_message(
            text=text("callback_done", name=first, contact=tracker.get_slot("patient_contact"))
        )
        return []
