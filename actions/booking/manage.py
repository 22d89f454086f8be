"""Cancelling and moving a booking: found by reference and contact, confirmed, then changed."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.booking.slots import FRESH_BOOKING, BookingSlotValidation, slot_label, text
from actions.chat import YES_NO
from actions.records.bookings import SlotTaken, cancel_booking, find_booking, reschedule_booking
from actions.records.calendar_file import calendar_url
from clinic.availability import Slot
from clinic.parsing.booking_answers import parse_reference

logger = logging.getLogger(__name__)


class ActionPrepareManageBooking(Action):
    """Cancel or move: remember which, and take a reference given in the same message, else
    the booking made earlier in this conversation."""

    def name(self) -> str:
        return "action_prepare_manage_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        action = "reschedule" if intent == "reschedule_appointment" else "cancel"
        reference = parse_reference(tracker.latest_message.get("text") or "")
        if reference is None and tracker.get_slot("last_booking_reference"):
            # "cancel that" after booking here: that booking (the contact is still checked)
            reference = tracker.get_slot("last_booking_reference")
            dispatcher.utter_message(text=text("manage_last_booking", reference=reference))
        events: list[EventType] = [
            SlotSet("manage_action", action),
            SlotSet("booking_reference", reference),
            SlotSet("patient_contact", None),
            SlotSet("booking_confirmed", None),
            SlotSet("form_failures", None),
            *(SlotSet(name, None) for name in FRESH_BOOKING),
        ]
        return events


class ValidateManageBookingForm(BookingSlotValidation):
    """Reference and contact must match one active booking before anything changes."""

    def name(self) -> str:
        return "validate_manage_booking_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        slots = ["booking_reference", "patient_contact"]
        if tracker.get_slot("manage_action") == "reschedule":
            slots += ["preferred_time", "appointment_slot"]
        return [*slots, "booking_confirmed"]

    def validate_booking_reference(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"booking_reference": parse_reference(str(value or ""))}

    def validate_patient_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        found = super().validate_patient_contact(value, dispatcher, tracker, domain)
        if not found.get("patient_contact"):
            return found
        reference = tracker.get_slot("booking_reference") or ""
        contacts = [c for c in (found["patient_phone"], found["patient_email"]) if c]
        if any(find_booking(reference, c) for c in contacts):
            return found
        dispatcher.utter_message(text=text("not_found"))
        return {"patient_contact": None, "booking_reference": None}

    def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is False and tracker.get_slot("manage_action") == "reschedule":
            dispatcher.utter_message(text=text("pick_again"))
            return {"booking_confirmed": None, "appointment_slot": None, "offered_slots": None}
        return {"booking_confirmed": value}


def booking_for(tracker: Tracker):
    """The booking the manage form verified (reference plus matching phone or email)."""
    reference = tracker.get_slot("booking_reference") or ""
    for contact in (tracker.get_slot("patient_phone"), tracker.get_slot("patient_email")):
        if contact:
            booking = find_booking(reference, contact)
            if booking:
                return booking, contact
    return None, None


class AskManageConfirmed(Action):
    """Names the booking and the change before making it."""

    def name(self) -> str:
        return "action_ask_manage_booking_form_booking_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        booking, _ = booking_for(tracker)
        if booking is None:
            dispatcher.utter_message(text=text("not_found"))
            return [SlotSet("booking_reference", None), SlotSet("patient_contact", None)]
        if tracker.get_slot("manage_action") == "reschedule":
            message = text(
                "confirm_move",
                reference=booking.reference,
                old_slot=booking.slot().label(),
                slot=slot_label(tracker.get_slot("appointment_slot")),
            )
        else:
            message = text(
                "confirm_cancel", reference=booking.reference, slot=booking.slot().label()
            )
        dispatcher.utter_message(text=message, buttons=YES_NO)
        return []


class ActionManageBooking(Action):
    """Cancels or moves the verified booking once confirmed."""

    def name(self) -> str:
        return "action_manage_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        done = [SlotSet("booking_confirmed", None), SlotSet("manage_action", None)]
        booking, contact = booking_for(tracker)
        if tracker.get_slot("booking_confirmed") is not True or booking is None:
            dispatcher.utter_message(text=text("kept"))
            return done
        try:
            if tracker.get_slot("manage_action") == "reschedule":
                new_slot = Slot.from_key(tracker.get_slot("appointment_slot") or "")
                if new_slot is None:
                    raise ValueError("no valid slot to move the booking to")
                moved = reschedule_booking(
                    booking.reference, contact, new_slot, conversation_id=tracker.sender_id
                )
                dispatcher.utter_message(
                    text=text(
                        "moved",
                        reference=moved.reference,
                        slot=moved.slot().label(),
                        calendar_url=calendar_url(moved.reference),
                    )
                )
            else:
                cancel_booking(booking.reference, contact, conversation_id=tracker.sender_id)
                if tracker.get_slot("last_booking_reference") == booking.reference:
                    done.append(SlotSet("last_booking_reference", None))  # nothing to "move it"
                dispatcher.utter_message(
                    text=text(
                        "cancelled",
                        reference=booking.reference,
                        slot=booking.slot().label(),
                        calendar_url=calendar_url(booking.reference),
                    )
                )
        except SlotTaken:
            dispatcher.utter_message(text=text("slot_gone"))
            return [
                SlotSet("appointment_slot", None),
                SlotSet("offered_slots", None),
                SlotSet("booking_confirmed", None),
                FollowupAction("manage_booking_form"),
            ]
        except Exception as exc:  # a storage failure must still get a kind reply
            # The type only: database errors quote the row, which holds contact details.
            logger.error("storage failed in %s: %s", self.name(), type(exc).__name__)
            dispatcher.utter_message(text=text("booking_failed"))
        return [*done, *(SlotSet(name, None) for name in FRESH_BOOKING)]
