"""Checks on slots filled from entities outside any form (Rasa's `action_validate_slot_mappings`).

The `condition` and `treatment` slots are filled from entities, and a button payload typed by
hand (`/ask_causes{"condition": {"a": 1}}`) can put any JSON value there. Every answer action
reads these slots as knowledge-base ids, so a value that is not one is cleared here, once,
before any action sees it, instead of being guarded in each reader.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import ValidationAction
from rasa_sdk.types import DomainDict

from clinic.knowledge import knowledge


def kb_id(value: Any, known: dict[str, Any]) -> str | None:
    """`value` if it is the id of a known entry, else None."""
    return value if isinstance(value, str) and value in known else None


class ValidateSlotMappings(ValidationAction):
    """Keeps only knowledge-base ids in the `condition` and `treatment` slots."""

    def validate_condition(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"condition": kb_id(value, knowledge().conditions)}

    def validate_treatment(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"treatment": kb_id(value, knowledge().treatments)}
