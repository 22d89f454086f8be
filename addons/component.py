"""Shared parts of the project's untrained Rasa graph components: a base built from its config
alone (so each one does not repeat Rasa's `create` signature), and intent overrides."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


class ConfiguredComponent(GraphComponent):
    """`create` passes the merged config to `__init__`; subclasses read what they need."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)


def ranking_of(message: Message) -> list[dict[str, Any]]:
    """The message's intent ranking, without unnamed entries."""
    return [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name")]


def set_intent(message: Message, intent: dict[str, Any], ranking: list[dict[str, Any]]) -> None:
    """Replace the intent and its ranking; both reach the tracker and the actions."""
    message.set(INTENT, intent, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)


def override_intent(message: Message, name: str) -> None:
    """Put `name` first at full confidence, the classifier's ranking kept below it."""
    top = {"name": name, "confidence": 1.0}
    set_intent(message, top, [top, *ranking_of(message)])
