"""What the booking, reschedule and call-back forms share: wording, offers and validators.

Wording lives in booking.yml, beside this module, filled by `text` (clinic.knowledge.wording.fill).
Availability comes from clinic/availability.py, bookings from actions/records/bookings.py.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.booking.reading import changed_time, horizon, pick_offered
from actions.chat import say
from actions.forms import ExplainingFormValidation
from actions.records.bookings import booked_slots
from clinic.availability import Slot, clinic_now, nearest_free_slots
from clinic.knowledge import knowledge, side_yaml
from clinic.knowledge.wording import fill
from clinic.parsing.contact import normalise_contact, normalise_name
from clinic.parsing.times import Preference, PreferenceProblem, parse_preference
from clinic.subject import change_misread, is_question, name_misread

logger = logging.getLogger(__name__)

#: Slots a new booking starts without (the person's name and contact are kept).
FRESH_BOOKING = ("preferred_time", "preferred_window", "appointment_slot", "offered_slots")


def text(key: str, **fields: Any) -> str:
    """The booking.yml wording `key`, filled with the clinic's facts and `fields`."""
    return fill(side_yaml(__file__, "booking.yml")[key], knowledge(), **fields)


def red_flag_warning(tracker: Tracker, dispatcher: CollectingDispatcher) -> None:
    """Red flags win: the medical check is named before any routine booking."""
    if tracker.get_slot("triage_level") in ("emergency", "urgent"):
        dispatcher.utter_message(text=say("booking_after_red_flag"))


def window_events(preference: Preference) -> list[EventType]:
    """Slots that remember a parsed preference (and forget slots offered for an older one)."""
    window: dict[str, Any] = {
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
    nearest = nearest_free_slots(
        earliest, latest, taken=booked_slots, anchor=anchor, limit=max(limit, 60), now=now
    )
    hours = window.get("hours")
    if hours:
        # "any morning this week": slots at the wanted time of day first, then the others.
        start, end = (dt.time.fromisoformat(h) for h in hours)
        nearest.sort(key=lambda s: not (start <= s.start.time() < end))
    return nearest[:limit]


def contact_text(phone: str | None, email: str | None) -> str:
    return " / ".join(c for c in (phone, email) if c)


#: Slots answered in free text, which a statement the classifier took for a FAQ still answers.
FREE_TEXT_SLOTS = frozenset(
    {"patient_type", "preferred_time", "appointment_slot", "patient_name", "patient_contact"}
)
#: Slots a change of time answers, even one the classifier took for moving a booking already
#: made ("can we do the afternoon instead" while the times are offered).
TIME_SLOTS = frozenset({"preferred_time", "appointment_slot"})


class BookingSlotValidation(ExplainingFormValidation):
    """Validators for slots the booking, reschedule and call-back forms share."""

    restarts = frozenset({"booking_confirmed"})

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A statement taken for a clinic FAQ ("it's my first time") answers the question
        asked; a real question is left alone, so the form rejects it and the FAQ rule
        answers it before the question is asked again. A change of time that names no booking
        already made answers a time question though the classifier said reschedule, and a name
        it called a stop answers the name question."""
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        asked = tracker.get_slot("requested_slot")
        said = (tracker.latest_message.get("text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answered = any(e.get("name") == asked for e in events)
        typed = bool(said) and not said.startswith("/")
        statement = intent == "faq" and asked in FREE_TEXT_SLOTS and not is_question(said)
        change = asked in TIME_SLOTS and change_misread(intent, said)
        if typed and not answered and (statement or change or name_misread(intent, asked, said)):
            events.append(SlotSet(asked, said))
        return events

    def validate_preferred_time(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        result = parse_preference(str(value or ""), now=clinic_now(), **horizon())
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
        # Not one of the offers: perhaps another day or time ("Friday morning instead");
        # "the afternoon" alone keeps the day asked for.
        result = changed_time(answer, tracker) or parse_preference(
            answer, now=clinic_now(), **horizon()
        )
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


def slot_label(key: str | None) -> str:
    slot = Slot.from_key(key or "")
    return slot.label() if slot else "the time you chose"
