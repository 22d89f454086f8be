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
from actions.case import Case, read_piece, short_reason, summary
from actions.forms import ExplainingFormValidation
from actions.knowledge import Clinic, knowledge, side_config
from actions.subject import is_question
from actions.triage import advice_messages
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
ORDINALS = {"first": 0, "1": 0, "1st": 0, "one": 0, "second": 1, "2": 1, "2nd": 1, "two": 1}
ORDINALS |= {"third": 2, "3": 2, "3rd": 2, "three": 2}
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


def reason_from_conversation(
    tracker: Tracker, case: Case | None = None, topic: str | None = None
) -> str | None:
    """A short reason for the visit from what was discussed: the patient's own case when
    that is the subject, else the condition or treatment discussed, else any case or symptoms."""
    kb = knowledge()
    case = case or Case.from_slot(tracker.get_slot("case"))
    topic = topic or tracker.get_slot("topic")
    from_case = short_reason(case, kb)
    if topic == "case" and from_case:
        return from_case
    condition = tracker.get_slot("condition")
    if condition in kb.conditions:
        return kb.conditions[condition].name
    treatment = tracker.get_slot("treatment")
    if topic == "treatment" and treatment in kb.treatments:
        return kb.treatments[treatment].name
    if from_case:
        return from_case
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
    # "first visit" / "first time" says who they are, not which slot.
    lowered = re.sub(r"\b(first|1st) (visit|time|appointment)\b", " ", answer.lower())
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


#: Slots answered in free text, which a statement the classifier took for a FAQ still answers.
FREE_TEXT_SLOTS = frozenset(
    {"patient_type", "preferred_time", "appointment_slot", "patient_name", "patient_contact"}
)


class BookingSlotValidation(ExplainingFormValidation):
    """Validators for slots the booking, reschedule and call-back forms share."""

    restarts = frozenset({"booking_confirmed"})

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A statement taken for a clinic FAQ ("it's my first time") answers the question
        asked; a real question is left alone, so the form rejects it and the FAQ rule
        answers it before the question is asked again."""
        events = await super().get_extraction_events(dispatcher, tracker, domain)
        asked = tracker.get_slot("requested_slot")
        said = (tracker.latest_message.get("text") or "").strip()
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        answered = any(e.get("name") == asked for e in events)
        typed = bool(said) and not said.startswith("/") and not is_question(said)
        if intent == "faq" and asked in FREE_TEXT_SLOTS and typed and not answered:
            events.append(SlotSet(asked, said))
        return events

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
        # Not one of the offers: perhaps another day or time ("Friday morning instead");
        # "the afternoon" alone keeps the day asked for.
        result = changed_time(answer, tracker) or parse_preference(
            answer, now=clinic_now(), **self._horizon()
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

    @staticmethod
    def _horizon() -> dict[str, Any]:
        clinic = knowledge().clinic
        return {"tz": clinic.timezone, "horizon_days": clinic.booking.horizon_days}


#: Words that say a time is a change of mind, not a slot pick ("make it the afternoon").
CHANGE_WORDS = re.compile(
    r"\b(instead|actually|change|make it|rather|prefer|can we do|could we do|how about|what about"
    r"|move it|switch)\b",
    re.I,
)
TIME_OF_DAY_ONLY = re.compile(r"^\W*(?:the |in the )?(morning|afternoon|evening)\W*$", re.I)
_TIME_OF_DAY = re.compile(r"\b(?:the |in the )?(morning|afternoon|evening)\b", re.I)
_DAY_WORDS = re.compile(
    r"\b(today|tomorrow|tmrw|tommorow|mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|monday"
    r"|tuesday|wednesday|thursday|friday|saturday|sunday|week|weekend|\d{1,2}(st|nd|rd|th)"
    r"|january|february|march|april|may|june|july|august|september|october|november|december)\b",
    re.I,
)


def changed_time(text: str, tracker: Tracker) -> Preference | None:
    """A new preferred time in a change of mind; "the afternoon" keeps the day asked for."""
    horizon = BookingSlotValidation._horizon()
    if not _DAY_WORDS.search(text) and _TIME_OF_DAY.search(text):
        earlier = (tracker.get_slot("preferred_time") or "").split(",")[0]
        day = re.sub(r"\bany\b|\(.*?\)", " ", earlier).strip()
        text = f"{day} {_TIME_OF_DAY.search(text).group(1)}" if day else text
    result = parse_preference(text, now=clinic_now(), **horizon)
    return result if isinstance(result, Preference) else None


def booking_changes(tracker: Tracker) -> dict[str, Any]:
    """An earlier answer changed at a later step of the booking: "make it the afternoon",
    "use my email instead: ...", "actually I've been before", "my name is ...". The changed
    slots go through their validators again, and the read-back is asked afresh."""
    asked = tracker.get_slot("requested_slot")
    said = (tracker.latest_message.get("text") or "").strip()
    intent = (tracker.latest_message.get("intent") or {}).get("name")
    if not asked or not said or said.startswith("/") or intent in ("faq", "stop"):
        return {}
    order = ("booking_reason", "patient_type", "preferred_time", "appointment_slot")
    order += ("patient_name", "patient_contact", "booking_confirmed")
    done = order[: order.index(asked)] if asked in order else ()
    changes: dict[str, Any] = {}
    if "patient_contact" in done or (asked == "patient_name" and "@" in said):
        phone, email = normalise_contact(said, region=knowledge().clinic.country)
        if phone or email:
            changes["patient_contact"] = said
    if "patient_type" in done and not QUESTION_START.match(said):
        kind = parse_patient_type(said)
        if kind and kind != tracker.get_slot("patient_type") and CHANGE_WORDS.search(said):
            changes["patient_type"] = kind
    if "appointment_slot" in done and (CHANGE_WORDS.search(said) or TIME_OF_DAY_ONLY.match(said)):
        preference = changed_time(said, tracker)
        if preference is not None:
            # validate_preferred_time turns it into the window (and forgets the old offers).
            changes.update({"preferred_time": preference.description, "appointment_slot": None})
    if "patient_name" in done and re.match(r"\s*(?:actually |sorry,? )?my name is\b", said, re.I):
        name = normalise_name(said)
        if name:
            changes["patient_name"] = name
    if changes and "booking_confirmed" in (*done, asked):
        changes["booking_confirmed"] = None
    return changes


def answers_ahead(tracker: Tracker) -> dict[str, Any]:
    """A later step answered with this one: "first visit, Friday morning if possible" gives
    the preferred time as well as the patient type."""
    asked = tracker.get_slot("requested_slot")
    said = (tracker.latest_message.get("text") or "").strip()
    if asked not in ("booking_reason", "patient_type") or said.startswith("/"):
        return {}
    if tracker.get_slot("preferred_time") or QUESTION_START.match(said):
        return {}
    if not (_DAY_WORDS.search(said) or _TIME_OF_DAY.search(said)):
        return {}
    result = parse_preference(said, now=clinic_now(), **BookingSlotValidation._horizon())
    if not isinstance(result, Preference):
        return {}
    return {"preferred_time": result.description}  # validated into the window


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
            kind = {"affirm": "returning", "deny": "new"}.get(intent)
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


#: Words that say in a booking request whether the patient has been before ("again" does not).
SAYS_PATIENT_TYPE = re.compile(
    r"\b(first (visit|time|appointment)|new patient|been (to you|there|here|in) before|been before"
    r"|seen you|existing patient|returning|not been|never been)\b",
    re.I,
)
#: A day the patient is free on ("I'm off work Tuesday", "Thursday suits me").
AVAILABLE = re.compile(
    r"\b(off work|day off|i'?m off|im off|free|available|suits|works for me|can do|could do"
    r"|can come|could come|come in)\b",
    re.I,
)
#: A day that says when the pain started, not when to come ("since Monday").
NOT_A_WISH = re.compile(r"\b(since|last|ago|started|began|from)\b", re.I)


def time_from_conversation(tracker: Tracker) -> Preference | None:
    """A time the patient asked for: in the booking request, or in an earlier message of
    this session that asked to come in ("could I come in on Thursday?") or said when they
    are free ("I'm off work Tuesday")."""
    horizon = BookingSlotValidation._horizon()
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") != "user":
            continue
        said = event.get("text") or ""
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        latest = said == (tracker.latest_message.get("text") or "")
        asked_for = latest or intent == "request_appointment" or AVAILABLE.search(said)
        if said.startswith("/") or not asked_for or (not latest and NOT_A_WISH.search(said)):
            continue
        if not _DAY_WORDS.search(said) and not _TIME_OF_DAY.search(said):
            continue  # "I'd like to book": no time in it (and "3 weeks" is not one)
        result = parse_preference(said, now=clinic_now(), **horizon)
        if isinstance(result, Preference):
            return result
    return None


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
