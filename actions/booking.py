"""Booking: how to book an examination at the clinic (knowledge/clinic.yml)."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import clinic_fields, say
from actions.knowledge import Clinic, knowledge

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


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


class ActionBookingInfo(Action):
    """How to book: the clinic's phone, email and opening hours."""

    def name(self) -> str:
        return "action_booking_info"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        kb = knowledge()
        if tracker.get_slot("triage_level") in ("emergency", "urgent"):
            # Red flags win: the medical check comes before a routine appointment.
            dispatcher.utter_message(
                text=say(
                    "booking_after_red_flag",
                    emergency_number=kb.clinic.emergency_number,
                    urgent_care=kb.clinic.urgent_care,
                )
            )
        text = say("booking_info", hours=opening_hours_text(kb.clinic), **clinic_fields(kb))
        dispatcher.utter_message(text=text)
        return []
