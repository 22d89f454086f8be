"""Rasa NLU component: text that is not language at all becomes `nlu_fallback`.

The classifiers give every input some intent, often confidently: ten thousand "a"s came out
as a confident medicines FAQ. clinic/parsing/nonsense.py decides what is no words at all
("aaaaaaaa", "#$%&*!", "asdfghjkl"); such a message gets the fallback ("Sorry, I didn't
get that ..."), like any message the classifiers are unsure of. It runs after the
FallbackClassifier and before the red-flag detector, which still has the last word.
"""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from addons.component import ConfiguredComponent, override_intent
from clinic.parsing.nonsense import not_language

FALLBACK = "nlu_fallback"
MARK_KEY = "not_language"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class NonsenseGate(ConfiguredComponent):
    """Overrides the intent with `nlu_fallback` for text that is not language."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if not_language(message.get(TEXT)):
                override_intent(message, FALLBACK)
                message.set(MARK_KEY, True, add_to_output=True)
        return messages
