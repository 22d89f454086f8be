"""Answering a red flag, whatever else was going on."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.records.triage_log import record_triage_event
from actions.triage.replies import advice_from_parse, hits_from_parse, triage_reply
from clinic.red_flags import TIER_ORDER, TRIAGE_ACTION, escalations, triage_level

logger = logging.getLogger(__name__)


class ActionTriageRedFlag(Action):
    """Answers a red flag, whatever else was going on: ends any form, sets `triage_level`,
    and records the event for the clinic's staff. The conversation can then go on."""

    def name(self) -> str:
        return TRIAGE_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        hits = hits_from_parse(message) or escalations(
            message.get("text") or "", tracker.get_slot("red_flags")
        )
        for text in triage_reply(hits + advice_from_parse(message)):
            dispatcher.utter_message(text=text)
        previous = tracker.get_slot("triage_level") or "routine"
        level = min(triage_level(hits) if hits else "urgent", previous, key=TIER_ORDER.__getitem__)
        flags = sorted({*(tracker.get_slot("red_flags") or []), *(h.id for h in hits)})
        await _record(tracker.sender_id, level, [h.id for h in hits], message.get("text") or "")
        events: list[EventType] = [SlotSet("triage_level", level), SlotSet("red_flags", flags)]
        if tracker.active_loop_name:
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events


async def _record(conversation_id: str, level: str, flags: list[str], text: str) -> None:
    """Store the event for staff review; a storage failure must not cost the person the
    urgent reply, so it is logged, not raised."""
    try:
        await asyncio.to_thread(record_triage_event, conversation_id, level, flags, text)
    except Exception:
        logger.exception("could not record a triage event for staff review")
