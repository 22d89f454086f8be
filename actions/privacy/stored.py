"""'What do you know about me?': everything kept for this conversation, in plain words."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.privacy.wording import listed, messages, text
from actions.records.forget import Stored, stored_for
from clinic.intake.case import Case, summary_lines
from clinic.knowledge import knowledge

logger = logging.getLogger(__name__)


class ActionTellStoredData(Action):
    """Lists what this conversation holds: the person's details, their story, and what the
    records keep (bookings, call-back requests, red-flag notes)."""

    def name(self) -> str:
        return "action_tell_stored_data"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        try:
            stored = stored_for(tracker.sender_id)
        except Exception as exc:  # the records are unreachable: say what the conversation holds
            # The type only: database errors quote rows, which hold contact details.
            logger.error("records unreachable in %s: %s", self.name(), type(exc).__name__)
            stored = None
        items = stored_items(tracker, stored)
        if items:
            said = text("stored_messages", messages=messages(tracker))
            reply = listed("stored_intro", [said, *items])
        else:
            reply = text("stored_nothing", messages=messages(tracker))
        days = knowledge().clinic.retention.conversation_days
        dispatcher.utter_message(text=reply + "\n" + text("stored_outro", days=days))
        return []


def stored_items(tracker: Tracker, stored: Stored | None) -> list[str]:
    """One line per thing kept beyond the messages themselves."""
    items = [
        text(f"stored_{key}", value=value)
        for key in ("name", "phone", "email")
        if (value := tracker.get_slot(f"patient_{key}"))
    ]
    story = summary_lines(Case.from_slot(tracker.get_slot("case")), knowledge())
    if story:
        items.append(text("stored_story", story="; ".join(story)))
    if stored is not None:
        items += [
            text("stored_booking", reference=b.reference, when=b.slot().label(), status=b.status)
            for b in stored.bookings
        ]
        items += [text("stored_callback", status=c.status) for c in stored.callbacks]
        if stored.red_flag_notes:
            items.append(text("stored_red_flags"))
    return items
