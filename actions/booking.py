"""Booking an examination: the appointment form, cancel and reschedule.

The form collects the reason (pre-filled from the conversation), new or returning patient,
a preferred time in the person's words, one of up to three real free slots offered as
buttons, a name and a phone number or email, then a confirmation. Availability comes from
actions/availability.py and bookings from actions/storage.py, where a unique constraint
makes double booking impossible; a slot lost to someone else at the last moment is answered
with fresh alternatives. Wording lives in booking.yml.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from itertools import groupby
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import clinic_fields, say
from actions.availability import Slot, clinic_now, nearest_free_slots
from actions.forms import ExplainingFormValidation
from actions.knowledge import Clinic, knowledge, side_config
from actions.validation import (
    Preference,
    PreferenceProblem,
    normalise_contact,
    normalise_name,
    parse_patient_type,
    parse_preference,
    parse_reference,
)

logger = logging.getLogger(__name__)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ORDINALS = {"first": 0, "1": 0, "one": 0, "second": 1, "2": 1, "two": 1, "third": 2, "3": 2}
#: Intents that are never an answer to "what would you like to be seen for?".
NOT_A_REASON = frozenset(
    {"red_flag", "stop", "request_human", "cancel_appointment", "reschedule_appointment"}
    | {"bot_challenge", "ask_capabilities", "greet", "goodbye", "thank", "affirm", "deny"}
)
QUESTION_START = re.compile(
    r"(what|why|how|when|where|which|who|can|could|does|do|is|are|will|should)\b", re.I
)
#: Slots a new booking starts without (the person's name and contact are kept).
FRESH_BOOKING = ("preferred_time", "preferred_window", "appointment_slot", "offered_slots")


def wording() -> dict[str, str]:
    return side_config("booking.yml")


def text(key: str, **fields: Any) -> str:
    clinic = knowledge().clinic
    base = {
        **clinic_fields(knowledge()),
        "address": clinic.address,
        "horizon": clinic.booking.horizon_days,
    }
    return wording()[key].format(**{**base, **fields})


def opening_hours_text(clinic: Clinic) -> str:
    """One line per run of weekdays with the same hours: "Mon–Fri: 08:00–12:00, 13:00–18:00"."""
    hours = clinic.hours.dict()
    lines = []
    for ranges, days in groupby(WEEKDAYS, key=lambda d: tuple(hours[d])):
        days = list(days)
        label = days[0][:3].title() + (f"–{days[-1][:3].title()}" if len(days) > 1 else "")
        text = ", ".join(r.replace("-", "–") for r in ranges) if ranges else "closed"
        lines.append(f"{label}: {text}")
    return "\n".join(lines)


def red_flag_warning(tracker: Tracker, dispatcher: CollectingDispatcher) -> None:
    """Red flags win: the medical check is named before any routine booking."""
    if tracker.get_slot("triage_level") in ("emergency", "urgent"):
        clinic = knowledge().clinic
        dispatcher.utter_message(
            text=say(
                "booking_after_red_flag",
                emergency_number=clinic.emergency_number,
                urgent_care=clinic.urgent_care,
            )
        )


# --- what the person said -------------------------------------------------------------------


def reason_from_conversation(tracker: Tracker) -> str | None:
    """A short reason for the visit from what was discussed: condition, else symptoms."""
    kb = knowledge()
    condition = tracker.get_slot("condition")
    if condition in kb.conditions:
        return kb.conditions[condition].name
    symptoms = [kb.symptoms[s].name for s in tracker.get_slot("symptoms") or [] if s in kb.symptoms]
    if symptoms:
        return ", ".join(symptoms[:3]).capitalize()
    return None


def window_events(preference: Preference) -> list[EventType]:
    """Slots that remember a parsed preference (and forget slots offered for an older one)."""
    window = {
        "earliest": preference.earliest.isoformat(),
        "latest": preference.latest.isoformat(),
        "anchor": preference.anchor.isoformat(),
    }
    if preference.time_of_day:
        window["hours"] = [t.isoformat() for t in preference.time_of_day]
    return [
        SlotSet("preferred_time", preference.description),
        SlotSet("preferred_window", window),
        SlotSet("appointment_slot", None),
        SlotSet("offered_slots", None),
    ]


def preference_problem(problem: PreferenceProblem) -> str | None:
    """What to say about a time we understood but cannot use (None: not understood)."""
    if problem == PreferenceProblem.past:
        return text("preference_past")
    if problem == PreferenceProblem.too_far:
        clinic = knowledge().clinic
        last = clinic_now().date() + dt.timedelta(days=clinic.booking.horizon_days)
        return text("preference_too_far", last_day=f"{last:%A %-d %B}")
    return None


def offers_for(tracker: Tracker, limit: int = 3) -> list[Slot]:
    """Up to `limit` free slots nearest the preferred window (or the nearest from now)."""
    window = tracker.get_slot("preferred_window") or {}
    now = clinic_now()
    try:
        earliest = dt.datetime.fromisoformat(window["earliest"])
        latest = dt.datetime.fromisoformat(window["latest"])
        anchor = dt.datetime.fromisoformat(window["anchor"])
    except (KeyError, TypeError, ValueError):
        earliest, latest, anchor = now, now + dt.timedelta(days=7), now
    nearest = nearest_free_slots(earliest, latest, anchor=anchor, limit=max(limit, 60), now=now)
    hours = window.get("hours")
    if hours:
        # "any morning this week": slots at the wanted time of day first, then the others.
        start, end = (dt.time.fromisoformat(h) for h in hours)
        nearest.sort(key=lambda s: not (start <= s.start.time() < end))
    return nearest[:limit]


def pick_offered(answer: str, offered: list[str]) -> str | None:
    """The offered slot key an answer points at: "the second one", "2", "10:30", "Friday"."""
    slots = [s for s in (Slot.from_key(k) for k in offered) if s]
    lowered = answer.lower()
    words = re.findall(r"[a-z0-9]+", lowered)
    if "last" in words and slots:
        return slots[-1].key()
    for word in words:
        if word in ORDINALS and ORDINALS[word] < len(slots):
            return slots[ORDINALS[word]].key()
    times = re.findall(r"\b(\d{1,2})(?:[:.](\d\d))?\s*(am|pm)?\b", lowered)
    for hour, minute, half in times:
        h = int(hour) % 12 + (12 if half == "pm" else 0) if half else int(hour)
        matches = [s for s in slots if (s.start.hour, s.start.minute) == (h, int(minute or 0))]
        if len(matches) == 1:
            return matches[0].key()
        if not half and h < 12:  # "at 3" in a clinic means 15:00
            later = [
                s for s in slots if (s.start.hour, s.start.minute) == (h + 12, int(minute or 0))
            ]
            if len(later) == 1:
                return later[0].key()
    days = [s for s in slots if s.start.strftime("%A").lower() in words]
    return days[0].key() if len(days) == 1 else None


def contact_text(phone: str | None, email: str | None) -> str:
    return " / ".join(c for c in (phone, email) if c)


# --- validation shared by the forms ----------------------------------------------------------


class BookingSlotValidation(ExplainingFormValidation):
    """Validators for slots the booking, reschedule and call-back forms share."""

    restarts = frozenset({"booking_confirmed"})

    def validate_preferred_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        result = parse_preference(str(value or ""), now=clinic_now(), **self._horizon())
        if isinstance(result, Preference):
            return {e["name"]: e["value"] for e in window_events(result)}
        message = preference_problem(result)
        if message:
            dispatcher.utter_message(text=message)
        return {"preferred_time": None}

    def validate_appointment_slot(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = str(value or "")
        offered = tracker.get_slot("offered_slots") or []
        key = answer if Slot.from_key(answer) else pick_offered(answer, offered)
        if key and (key in offered or Slot.from_key(key) in offers_for(tracker, limit=50)):
            return {"appointment_slot": key}
        # Not one of the offers: perhaps another day or time ("Friday morning instead").
        result = parse_preference(answer, now=clinic_now(), **self._horizon())
        if isinstance(result, Preference):
            return {e["name"]: e["value"] for e in window_events(result)}
        message = preference_problem(result)
        if message:
            dispatcher.utter_message(text=message)
        return {"appointment_slot": None}

    def validate_patient_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"patient_name": normalise_name(str(value or ""))}

    def validate_patient_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        phone, email = normalise_contact(str(value or ""), region=knowledge().clinic.country)
        if not (phone or email):
            return {"patient_contact": None}
        return {
            "patient_contact": contact_text(phone, email),
            "patient_phone": phone,
            "patient_email": email,
        }

    @staticmethod
    def _horizon() -> dict[str, Any]:
        clinic = knowledge().clinic
        return {"tz": clinic.timezone, "horizon_days": clinic.booking.horizon_days}


class ValidateAppointmentForm(BookingSlotValidation):
    def name(self) -> str:
        return "validate_appointment_form"

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
            kind = {"affirm": "returning", "deny": "new"}.get(intent)
        return {"patient_type": kind}

    def validate_booking_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"booking_confirmed": True}
        dispatcher.utter_message(text=text("pick_again"))
        return {"booking_confirmed": None, "appointment_slot": None, "offered_slots": None}


# --- asking for a slot and confirming --------------------------------------------------------


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


def slot_label(key: str | None) -> str:
    slot = Slot.from_key(key or "")
    return slot.label() if slot else "the time you chose"


YES_NO = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]


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


# --- starting and finishing -------------------------------------------------------------------


class ActionPrepareBooking(Action):
    """Before the form: warn after a red flag, and pre-fill what the conversation told us
    (the reason, and a time if the request named one: "Thursday afternoon about my sciatica")."""

    def name(self) -> str:
        return "action_prepare_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        red_flag_warning(tracker, dispatcher)
        events: list[EventType] = [SlotSet(name, None) for name in FRESH_BOOKING]
        events += [SlotSet("booking_confirmed", None), SlotSet("form_failures", None)]
        reason = reason_from_conversation(tracker)
        if reason:
            events.append(SlotSet("booking_reason", reason))
        said = tracker.latest_message.get("text") or ""
        if not said.startswith("/"):
            result = parse_preference(said, now=clinic_now(), **BookingSlotValidation._horizon())
            if isinstance(result, Preference):
                events += window_events(result)
        return events


class ActionBookAppointment(Action):
    """Books the confirmed slot; if someone took it first, offers fresh slots again."""

    def name(self) -> str:
        return "action_book_appointment"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        from actions.storage import book_or_alternatives

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
            text=text("booked", slot=slot.label(), reference=booking.reference)
        )
        if booking.patient_type == "new":
            dispatcher.utter_message(text=text("booked_new_patient"))
        return [
            SlotSet("last_booking_reference", booking.reference),
            *(SlotSet(name, None) for name in FRESH_BOOKING),
            SlotSet("booking_confirmed", None),
        ]


# --- cancel and reschedule --------------------------------------------------------------------


class ActionPrepareManageBooking(Action):
    """Cancel or move: remember which, and take a reference given in the same message."""

    def name(self) -> str:
        return "action_prepare_manage_booking"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        action = "reschedule" if intent == "reschedule_appointment" else "cancel"
        events: list[EventType] = [
            SlotSet("manage_action", action),
            SlotSet("booking_reference", parse_reference(tracker.latest_message.get("text") or "")),
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
        from actions.storage import find_booking

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
    from actions.storage import find_booking

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
        from actions.storage import SlotTaken, cancel_booking, reschedule_booking

        done = [SlotSet("booking_confirmed", None), SlotSet("manage_action", None)]
        booking, contact = booking_for(tracker)
        if tracker.get_slot("booking_confirmed") is not True or booking is None:
            dispatcher.utter_message(text=text("kept"))
            return done
        try:
            if tracker.get_slot("manage_action") == "reschedule":
                new_slot = Slot.from_key(tracker.get_slot("appointment_slot") or "")
                moved = reschedule_booking(
                    booking.reference, contact, new_slot, conversation_id=tracker.sender_id
                )
                dispatcher.utter_message(
                    text=text("moved", reference=moved.reference, slot=moved.slot().label())
                )
            else:
                cancel_booking(booking.reference, contact, conversation_id=tracker.sender_id)
                dispatcher.utter_message(
                    text=text("cancelled", reference=booking.reference, slot=booking.slot().label())
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
