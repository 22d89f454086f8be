"""Rasa NLU component: word meaning from the pre-trained sentence encoder (clinic/encoder/).

Each message's text gets dense features: one vector for the whole message (the encoder's
mean-pooled sentence vector) and one per token (the mean of the word pieces inside the
token), so that the classifiers can place phrasings that share no words with the training
data ("can't feel the toilet paper" near "numbness down below"). The topic classifier reads
the sentence vector beside the word and character n-grams; the ResponseSelector reads both.
Only the message text is featurized, in training and at serving alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from clinic.encoder.model import DIMENSIONS, Encoded, encoder, wants


def the_text(text: str) -> list[str]:
    """What this component asks the encoder for, for a message: its text."""
    return [text]


def token_vectors(spans: list[tuple[int, int]], encoded: Encoded) -> np.ndarray:
    """One row per token span: the mean of the word pieces overlapping it (zeros when the
    text was cut at the encoder's length limit before that token)."""
    rows = np.zeros((len(spans), DIMENSIONS), np.float32)
    for row, (start, end) in enumerate(spans):
        inside = [k for k, (s, e) in enumerate(encoded.offsets) if s < end and e > start]
        if inside:
            rows[row] = encoded.pieces[inside].mean(axis=0)
    return rows


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense sequence and sentence features of the message text from the encoder."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # sentence_scale: the sentence vector has length 1, while the n-gram counts beside it
        # in the topic classifier's input reach a length of 10 or more; scaled up, the
        # meaning weighs as much as the spelling under the classifier's L2 penalty.
        return {**DenseFeaturizer.get_default_config(), "sentence_scale": 1.0}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """The checkpoint is fixed (clinic/encoder/checkpoint.yml); only the scale is set."""
        if float(config.get("sentence_scale", 1.0)) <= 0:
            raise ValueError("sentence_scale must be positive")

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self._scale = float(config["sentence_scale"])
        self._encoder = encoder()  # loads and checks the weights once per process
        wants(the_text)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config, execution_context.node_name)

    def process(self, messages: list[Message]) -> list[Message]:
        with_text = [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        encoded = self._encoder.encode([m.get(TEXT) for m in with_text])
        for message, vectors in zip(with_text, encoded, strict=True):
            spans = [(t.start, t.end) for t in message.get(TOKENS_NAMES[TEXT])]
            self.add_features_to_message(
                token_vectors(spans, vectors),
                self._scale * vectors.sentence[None, :],
                TEXT,
                message,
            )
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
