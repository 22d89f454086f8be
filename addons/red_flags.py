"""Rasa NLU component: red flags on every message, whatever the intent classifier said.

It runs last in the pipeline on the Doc that `SpacyNLP` made (the project's own pipeline,
with the red-flag span ruler) and applies the same `clinic.red_flags.detect_red_flags` as the
actions and the evaluation script. When a red flag counts, the message's intent becomes
`red_flag` with confidence 1.0 (DIET's guess stays in the ranking) and the hits are added to
the parse result under `red_flags`; `addons.triage_policy.RedFlagPolicy` then makes sure the
triage action answers, even in the middle of a form. Advice signs (tier `soon`: see a doctor
soon, such as new back pain after 50) leave the intent alone; they go under `advice`, and the
answer actions add the note to their normal answer.

With `similar_phrasings: true` (config.yml), a clause that the patterns miss but that is
close in meaning to one of a red flag's phrasings in knowledge/red_flags.yml counts as that
red flag too, under the same context rules (clinic/red_flags/similar.py, the second net).
"""

from __future__ import annotations

from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import SPACY_DOCS
from rasa.nlu.utils.spacy_utils import SpacyModel, SpacyNLP
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from addons.component import ConfiguredComponent, override_intent
from clinic.red_flags import ADVICE_KEY, RED_FLAG_INTENT, RED_FLAGS_KEY, detect_signs, split_signs
from clinic.red_flags.hits import RedFlagHit


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False, model_from="SpacyNLP"
)
class RedFlagDetector(ConfiguredComponent):
    """Overrides the intent with `red_flag` when the person reports a warning sign."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [SpacyNLP]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # similar_phrasings: also the second net (clinic/red_flags/similar.py), a clause close
        # in meaning to a red flag's phrasings; needs the sentence encoder (`make encoder`).
        return {"similar_phrasings": False}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._net = None
        if config.get("similar_phrasings"):
            from clinic.red_flags.similar import similarity_net  # the encoder: TensorFlow

            self._net = similarity_net()  # the reference phrasings encoded at load, once

    def _similar(self, doc: Any, found: list[RedFlagHit]) -> list[RedFlagHit]:
        """Red flags the patterns missed that the second net finds, when it is on."""
        return self._net.hits(doc, {h.id for h in found}) if self._net else []

    def process(self, messages: list[Message], model: SpacyModel) -> list[Message]:
        for message in messages:
            doc = message.get(SPACY_DOCS[TEXT])
            if doc is None:
                continue
            hits, advice = split_signs(detect_signs(doc, model.model))
            hits += self._similar(doc, hits)
            message.set(ADVICE_KEY, [h.as_dict() for h in advice], add_to_output=True)
            if not hits:
                continue
            override_intent(message, RED_FLAG_INTENT)
            message.set(RED_FLAGS_KEY, [h.as_dict() for h in hits], add_to_output=True)
        return messages
