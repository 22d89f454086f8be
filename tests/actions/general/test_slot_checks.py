"""Slots filled from entities hold knowledge-base ids only, whatever a typed payload says."""

from __future__ import annotations

import asyncio

import pytest

from actions.general.slot_checks import ValidateSlotMappings
from tests.helpers import make_tracker

DOMAIN = {
    "slots": {
        "condition": {"type": "text", "mappings": [{"type": "from_entity", "entity": "condition"}]},
        "treatment": {"type": "text", "mappings": [{"type": "from_entity", "entity": "treatment"}]},
    }
}


def validated(slot: str, value) -> dict:
    """What the global validation action leaves in the slot after extraction set `value`."""
    from rasa_sdk.executor import CollectingDispatcher

    tracker = make_tracker("/ask_causes", slots={slot: value})
    tracker.events.append({"event": "slot", "name": slot, "value": value})
    events = asyncio.run(ValidateSlotMappings().run(CollectingDispatcher(), tracker, DOMAIN))
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


@pytest.mark.parametrize(
    ("slot", "value"), [("condition", "sciatica"), ("treatment", "spinal_manipulation")]
)
def test_a_knowledge_base_id_is_kept(slot, value):
    assert validated(slot, value) == {slot: value}


@pytest.mark.parametrize(
    "value", [{"a": 1}, ["sciatica", "osteoarthritis"], 7, "gout", "SCIATICA; drop table"]
)
@pytest.mark.parametrize("slot", ["condition", "treatment"])
def test_anything_else_a_typed_payload_puts_there_is_cleared(slot, value):
    assert validated(slot, value) == {slot: None}


def test_the_answer_actions_survive_a_cleared_slot():
    """After the check, an answer action sees no condition and asks which one is meant."""
    from actions.knowledge_answers.answers import ActionExplainCauses
    from tests.helpers import run_action

    messages, _ = run_action(
        ActionExplainCauses(), make_tracker("/ask_causes", intent="ask_causes")
    )
    assert messages and messages[0].get("text")
