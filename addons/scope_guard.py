"""Rasa NLU component: a message about another part of the body is out of scope.

DIET learns "a described health problem" or "a question about a condition" from the words
around it, so "I have an itchy rash on my arm" can look like a symptom description. This
component turns such a prediction into `out_of_scope` when the message names something from
`knowledge/scope.yml` (other body parts and health problems) and nothing that keeps it in
scope: no knowledge-base entity (condition, symptom, body part, treatment) and none of the
file's `inside` words ("back", "leg", "appointment"). It runs after the FallbackClassifier
and before the red-flag detector, so a red flag ("chest pain") still wins.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.knowledge import ENTITY_LABELS, knowledge

OUT_OF_SCOPE = "out_of_scope"
#: Set on the parse when the guard changed the intent (for logs and the evaluation).
SCOPE_KEY = "out_of_scope_terms"


def word_pattern(terms: list[str]) -> re.Pattern:
    """One case-insensitive pattern for the terms and their plurals, whole words only."""
    alternatives = sorted({re.escape(t) for t in terms}, key=len, reverse=True)
    return re.compile(rf"\b(?:{'|'.join(alternatives)})(?:e?s)?\b", re.I)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class ScopeGuard(GraphComponent):
    """Overrides content intents with out_of_scope for messages about other health topics."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intents": [
                "describe_symptoms",
                "ask_condition_info",
                "ask_causes",
                "ask_symptoms",
                "ask_treatment",
                "ask_outlook",
                "ask_assessment",
                "ask_leg_pain_link",
                "faq",
            ]
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self._intents = set(config["intents"])
        scope = knowledge().scope
        self._pattern = word_pattern(scope.terms())
        self._inside = word_pattern(scope.inside)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)

    def outside_terms(self, text: str, entities: list[dict[str, Any]]) -> list[str]:
        """The out-of-scope words in `text`, or [] when it names something we know."""
        if any(e.get("entity") in ENTITY_LABELS for e in entities):
            return []
        if self._inside.search(text or ""):
            return []
        return [m.group(0) for m in self._pattern.finditer(text or "")]

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            if intent not in self._intents:
                continue
            found = self.outside_terms(message.get(TEXT), message.get(ENTITIES) or [])
            if not found:
                continue
            guarded = {"name": OUT_OF_SCOPE, "confidence": 1.0}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name")]
            message.set(INTENT, guarded, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [guarded, *ranking], add_to_output=True)
            message.set(SCOPE_KEY, found, add_to_output=True)
        return messages
