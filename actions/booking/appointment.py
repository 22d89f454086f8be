"""Booking an examination: the appointment form, its questions and the booking itself.

The form collects the reason (pre-filled from the conversation), new or returning patient,
a preferred time in the person's words, one of up to three real free slots offered as
buttons, a name and a phone number or email, then a confirmation. A unique constraint in
the database makes double booking impossible; a slot lost to someone else at the last
moment is answered with fresh alternatives.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.booking.reading import (
    NOT_A_REASON,
    QUESTION_START,
    SAYS_PATIENT_TYPE,
    answers_ahead,
    booking_changes,
    reason_from_conversation,
    time_from_conversation,
)
from actions.booking.slots import (
    FRESH_BOOKING,
    BookingSlotValidation,
    offers_for,
    red_flag_warning,
    slot_label,
    text,
    window_events,
)
from actions.chat import YES_NO
from actions.records.bookings import book_or_alternatives
from actions.records.calendar_file import calendar_url
from actions.triage.replies import advice_messages
from clinic.availability import Slot
from clinic.intake.case import Case, read_piece, summary
from clinic.knowledge import knowledge
from clinic.parsing.booking_answers import parse_patient_type

logger = logging.getLogger(__name__)


class ValidateAppointmentForm(BookingSlotValidation):
    def name(self) -> str:
        return "validate_appointment_form"

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        changes = booking_changes(tracker)
        if changes:
            # The answer changed an earlier step: it is not an answer to this one.
            asked = tracker.get_slot("requested_slot")
            events = [e for e in events if e.get("name") != asked]
            events += [SlotSet(asked, None)] if asked not in changes else []
            events += [SlotSet(name, value) for name, value in changes.items()]
        else:
            events += [SlotSet(name, value) for name, value in answers_ahead(tracker).items()]
        return events

    async def extract_booking_reason(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The answer to "what would you like to be seen for?", unless it is a question,
        an exit or a red flag (those are handled by rules and the triage policy)."""
        asked = tracker.get_slot("requested_slot") == "booking_reason"
        said = (tracker.latest_message.get("text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if not asked or not said or said.startswith("/") or intent in NOT_A_REASON:
            return {}
        if said.endswith("?") or QUESTION_START.match(said):
            return {}
        return {"booking_reason": said}

    def validate_booking_reason(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        reason = " ".join(str(value or "").split())
        ok = 3 <= len(reason) <= 300 and re.search(r"[^\W\d_]{2}", reason)
        return {"booking_reason": reason if ok else None}

    def validate_patient_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        kind = parse_patient_type(str(value or ""))
        if kind is None:
            # The question is "have you been to us before?": yes means returning.
            intent = (tracker.latest_message.get("intent") or {}).get("name")
            kind = {"affirm": "returning", "deny": "new"}.get(str(intent))
        return {"patient_type": kind}

    def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"booking_confirmed": True}
        if value is None:  # an earlier answer was changed: read the booking back again
            return {"booking_confirmed": None}
        dispatcher.utter_message(text=text("pick_again"))
        return {"booking_confirmed": None, "appointment_slot": None, "offered_slots": None}


class AskAppointmentSlot(Action):
    """Offers up to three real free slots nearest the preference, as buttons."""

    form = "appointment_form"

    def name(self) -> str:
        return f"action_ask_{self.form}_appointment_slot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        slots = offers_for(tracker)
        if not slots:
            dispatcher.utter_message(text=text("no_slots"))
            return [SlotSet("offered_slots", [])]
        preference = tracker.get_slot("preferred_time") or "now"
        buttons = [
            {"title": s.label(), "payload": f'/inform{{"appointment_slot": "{s.key()}"}}'}
            for s in slots
        ]
        dispatcher.utter_message(text=text("offer_slots", preference=preference), buttons=buttons)
        return [SlotSet("offered_slots", [s.key() for s in slots])]


class AskRescheduleSlot(AskAppointmentSlot):
    form = "manage_booking_form"


class AskBookingConfirmed(Action):
    """Reads the booking back before it is made."""

    def name(self) -> str:
        return "action_ask_appointment_form_booking_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = text(
            "confirm_booking",
            slot=slot_label(tracker.get_slot("appointment_slot")),
            name=tracker.get_slot("patient_name"),
            patient_type=tracker.get_slot("patient_type") or "new",
            reason=tracker.get_slot("booking_reason"),
            contact=tracker.get_slot("patient_contact"),
        )
        dispatcher.utter_message(text=message, buttons=YES_NO)
        return []


class ActionPrepareBooking(Action):
    """Before the form: warn after a red flag, and pre-fill what the conversation told us:
    the reason (the patient's case, or the condition discussed), a story told in the same
    message ("my back has been sore for a week, can I book?"), and a time from this message
    or an earlier one ("can I come Thursday?" ... "yes please book")."""

    def name(self) -> str:
        return "action_prepare_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        red_flag_warning(tracker, dispatcher)
        for advice in advice_messages(tracker.latest_message or {}):
            dispatcher.utter_message(text=advice)  # "new back pain after 50: see a doctor soon"
        events: list[EventType] = [SlotSet(name, None) for name in FRESH_BOOKING]
        events += [SlotSet("booking_confirmed", None), SlotSet("form_failures", None)]
        said = tracker.latest_message.get("text") or ""
        case = Case.from_slot(tracker.get_slot("case"))
        topic = tracker.get_slot("topic")
        if not said.startswith("/"):
            kb = knowledge()
            if case.merge(read_piece(said, kb)):
                events += [
                    SlotSet("case", case.as_slot()),
                    SlotSet("symptoms", case.symptoms),
                    SlotSet("intake_summary", summary(case, kb)),
                    SlotSet("topic", "case"),
                ]
                topic = "case"  # the request told its own story: that is the reason
            kind = parse_patient_type(said)  # "can I book a first appointment?"
            if kind and not tracker.get_slot("patient_type") and SAYS_PATIENT_TYPE.search(said):
                events.append(SlotSet("patient_type", kind))
        reason = reason_from_conversation(tracker, case, topic)
        if reason:
            events.append(SlotSet("booking_reason", reason))
        preference = time_from_conversation(tracker)
        if preference is not None:
            events += window_events(preference)
        return events


class ActionBookAppointment(Action):
    """Books the confirmed slot; if someone took it first, offers fresh slots again."""

    def name(self) -> str:
        return "action_book_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        slot = Slot.from_key(tracker.get_slot("appointment_slot") or "")
        if slot is None or tracker.get_slot("booking_confirmed") is not True:
            return [SlotSet("appointment_slot", None), SlotSet("booking_confirmed", None)]
        try:
            booking, _ = book_or_alternatives(
                slot=slot,
                name=tracker.get_slot("patient_name"),
                phone=tracker.get_slot("patient_phone"),
                email=tracker.get_slot("patient_email"),
                patient_type=tracker.get_slot("patient_type") or "new",
                reason=tracker.get_slot("booking_reason") or "",
                intake_summary=tracker.get_slot("intake_summary") or "",
                triage_level=tracker.get_slot("triage_level") or "routine",
                conversation_id=tracker.sender_id,
            )
        except Exception as exc:  # a storage failure must still get a kind reply
            # The type only: database errors quote the row, which holds contact details.
            logger.error("storage failed in %s: %s", self.name(), type(exc).__name__)
            dispatcher.utter_message(text=text("booking_failed"))
            return [SlotSet("booking_confirmed", None)]
        if booking is None:
            dispatcher.utter_message(text=text("slot_gone"))
            return [
                SlotSet("appointment_slot", None),
                SlotSet("offered_slots", None),
                SlotSet("booking_confirmed", None),
                FollowupAction("appointment_form"),
            ]
        dispatcher.utter_message(
            text=text(
                "booked",
                slot=slot.label(),
                reference=booking.reference,
                calendar_url=calendar_url(booking.reference),
            )
        )
        if booking.patient_type == "new":
            dispatcher.utter_message(text=text("booked_new_patient"))
        return [
            SlotSet("last_booking_reference", booking.reference),
            *(SlotSet(name, None) for name in FRESH_BOOKING),
            SlotSet("booking_confirmed", None),
        ]
