"""'Delete my data': say what will go, ask, then forget the person everywhere.

The records are cleared here (actions/records/forget.py: future appointments cancelled
first, then names, contact details and the person's words removed); the conversation
itself is deleted by the Rasa server's tracker store once this action sets
`conversation_forgotten` (addons/tracker_store.py), because Rasa saves the conversation
after the action. Every other slot is emptied too, so nothing said before is used again.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.chat import YES_NO
from actions.general.session import CLINIC_SLOTS
from actions.privacy.wording import bookings_count, listed, messages, text
from actions.records.forget import Forgotten, forget, future_bookings, stored_for

logger = logging.getLogger(__name__)

CONFIRM_SLOT = "forget_confirmed"
FORGET_INTENT = "forget_me"
FORGET_FORM = "forget_form"
FORGOTTEN_SLOT = "conversation_forgotten"


class ActionPrepareForget(Action):
    """Before the question: no answer from an earlier request counts."""

    def name(self) -> str:
        return "action_prepare_forget"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        return [SlotSet(CONFIRM_SLOT, None), SlotSet("form_failures", None)]


class ActionAskForgetConfirmed(Action):
    """'Shall I go ahead?', naming what will be deleted and any appointment to cancel."""

    def name(self) -> str:
        return "action_ask_forget_form_forget_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(text=confirm_text(tracker), buttons=YES_NO)
        return []


def confirm_text(tracker: Tracker) -> str:
    stored = stored_for(tracker.sender_id)
    items = [
        text("confirm_cancels", when=b.slot().label(), reference=b.reference)
        for b in future_bookings(tracker.sender_id)
    ]
    items.append(text("item_conversation", messages=messages(tracker)))
    if stored.bookings:
        items.append(text("item_bookings", count=bookings_count(len(stored.bookings))))
    if any(c.status == "open" for c in stored.callbacks):
        items.append(text("item_callbacks"))
    if stored.red_flag_notes:
        items.append(text("item_red_flags"))
    return listed("confirm", items)


class ActionForgetMe(Action):
    """Forget the person when they said yes; otherwise say that nothing was deleted."""

    def name(self) -> str:
        return "action_forget_me"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if tracker.get_slot(CONFIRM_SLOT) is not True:
            form = interrupted_form(tracker)
            dispatcher.utter_message(text=text("kept_resume" if form else "kept"))
            return [SlotSet(CONFIRM_SLOT, None), *([FollowupAction(form)] if form else [])]
        try:
            done = forget(tracker.sender_id, tracker.get_latest_input_channel() or "")
        except Exception as exc:  # the records are unreachable: delete nothing, say so
            # The type only: database errors quote rows, which hold contact details.
            logger.error("forgetting failed, nothing deleted: %s", type(exc).__name__)
            dispatcher.utter_message(text=text("failed"))
            return [SlotSet(CONFIRM_SLOT, None)]
        dispatcher.utter_message(text=listed("done", done_items(done)))
        emptied = [
            SlotSet(name, None)
            for name in tracker.slots
            if name not in CLINIC_SLOTS and name != FORGOTTEN_SLOT
        ]
        return [*emptied, SlotSet(FORGOTTEN_SLOT, True)]


def interrupted_form(tracker: Tracker) -> str | None:
    """The form that was under way when the person asked to be forgotten (a booking, say),
    so that a change of mind picks it up again; None when there was none."""
    events = list(tracker.events)
    asked = [
        i
        for i, e in enumerate(events)
        if e.get("event") == "user"
        and (e.get("parse_data") or {}).get("intent", {}).get("name") == FORGET_INTENT
    ]
    if not asked:
        return None
    for event in reversed(events[: asked[-1]]):
        if event.get("event") == "active_loop":
            name = event.get("name")
            return name if name and name != FORGET_FORM else None
    return None


def done_items(done: Forgotten) -> list[str]:
    items = [
        text("done_cancelled", when=b.slot().label(), reference=b.reference) for b in done.cancelled
    ]
    items.append(text("done_conversation"))
    if done.bookings_cleared:
        items.append(text("done_bookings", count=bookings_count(done.bookings_cleared)))
    if done.callbacks_cleared:
        items.append(text("done_callbacks"))
    if done.red_flag_notes:
        items.append(text("done_red_flags"))
    return items
