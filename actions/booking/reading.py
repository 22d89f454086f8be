"""What the person said that a booking can use: the reason, a wished-for time, a change.

Read from the conversation so far, so someone who told their story and then asks to come in
"Thursday afternoon" is not asked again.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker

from clinic.availability import Slot, clinic_now
from clinic.intake.case import Case, short_reason
from clinic.knowledge import knowledge
from clinic.parsing.booking_answers import parse_patient_type
from clinic.parsing.contact import normalise_contact, normalise_name
from clinic.parsing.times import Preference, parse_preference

ORDINALS = {"first": 0, "1": 0, "1st": 0, "one": 0, "second": 1, "2": 1, "2nd": 1, "two": 1}


ORDINALS |= {"third": 2, "3": 2, "3rd": 2, "three": 2}


#: Intents that are never an answer to "what would you like to be seen for?".
NOT_A_REASON = frozenset(
    {"red_flag", "stop", "request_human", "cancel_appointment", "reschedule_appointment"}
    | {"forget_me", "ask_stored_data"}
    | {"bot_challenge", "ask_capabilities", "greet", "goodbye", "thank", "affirm", "deny"}
)


QUESTION_START = re.compile(
    r"(what|why|how|when|where|which|who|can|could|does|do|is|are|will|should)\b", re.I
)


def horizon() -> dict[str, Any]:
    """The clinic's time zone and booking horizon, as parse_preference takes them."""
    clinic = knowledge().clinic
    return {"tz": clinic.timezone, "horizon_days": clinic.booking.horizon_days}


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
    limits = horizon()
    part = _TIME_OF_DAY.search(text)
    if part and not _DAY_WORDS.search(text):
        earlier = (tracker.get_slot("preferred_time") or "").split(",")[0]
        day = re.sub(r"\bany\b|\(.*?\)", " ", earlier).strip()
        text = f"{day} {part.group(1)}" if day else text
    result = parse_preference(text, now=clinic_now(), **limits)
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
    order: tuple[str, ...] = ("booking_reason", "patient_type", "preferred_time")
    order += ("appointment_slot", "patient_name", "patient_contact", "booking_confirmed")
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
    result = parse_preference(said, now=clinic_now(), **horizon())
    if not isinstance(result, Preference):
        return {}
    return {"preferred_time": result.description}  # validated into the window


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
    limits = horizon()
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
        result = parse_preference(said, now=clinic_now(), **limits)
        if isinstance(result, Preference):
            return result
    return None
