"""Rasa NLU component: knowledge-base entities with their ids as values.

Rasa's own `SpacyEntityExtractor` runs the spaCy pipeline a second time and returns the
surface text ("slipped disk"), dropping the entity ruler's id. This component reads the Doc
that `SpacyNLP` already made, and returns each match with the knowledge-base id as its
value (`herniated_disc`), using the same matcher as the custom actions, typo tolerance
included. It needs no training: the knowledge base is the model.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from addons.component import ConfiguredComponent
from clinic.nlp import KBMatcher


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False, model_from="SpacyNLP"
)
class KnowledgeEntityExtractor(ConfiguredComponent, EntityExtractorMixin):
    """Extracts `condition`, `symptom`, `body_part` and `treatment` entities."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # fuzzy: also accept near-misses of knowledge-base phrases (typos).
        return {"fuzzy": True}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._fuzzy = bool(config.get("fuzzy", True))
        self._matcher: KBMatcher | None = None

    def _matcher_for(self, model: SpacyModel) -> KBMatcher:
        if self._matcher is None or self._matcher.nlp is not model.model:
            self._matcher = KBMatcher(model.model)
        return self._matcher

    def process(self, messages: list[Message], model: SpacyModel) -> list[Message]:
        matcher = self._matcher_for(model)
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT])
            if doc is None:
                continue
            found = [
                {
                    "entity": e.label,
                    "value": e.id,
                    "start": e.start,
                    "end": e.end,
                    "confidence_entity": e.confidence,
                }
                for e in matcher.entities(doc, fuzzy=self._fuzzy)
            ]
            message.set(
                ENTITIES,
                message.get(ENTITIES, []) + self.add_extractor_name(found),
                add_to_output=True,
            )
        return messages
