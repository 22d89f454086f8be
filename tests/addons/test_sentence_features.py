"""The encoder's features in Rasa's format: a sentence vector and one vector per token, each
token's the mean of the word pieces inside it."""

from __future__ import annotations

import numpy as np
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from addons.sentence_features import SentenceEncoderFeaturizer, token_vectors
from clinic.encoder.model import DIMENSIONS, Encoded


def test_each_token_gets_the_mean_of_its_word_pieces():
    pieces = np.arange(3 * DIMENSIONS, dtype=np.float32).reshape(3, DIMENSIONS)
    encoded = Encoded(pieces[0], pieces, [(0, 3), (3, 6), (7, 9)])  # "numb" "ness", "is"
    rows = token_vectors([(0, 6), (7, 9), (10, 12)], encoded)
    assert np.allclose(rows[0], pieces[:2].mean(axis=0))
    assert np.allclose(rows[1], pieces[2])
    assert not rows[2].any()  # past the encoder's length limit


def test_messages_get_dense_sequence_and_sentence_features():
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    message = Message({TEXT: "I can't feel the toilet paper"})
    tokenizer.process([message])
    featurizer = SentenceEncoderFeaturizer(SentenceEncoderFeaturizer.get_default_config(), "enc")
    featurizer.process([message, Message({TEXT: ""})])
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence.features.shape == (len(message.get(TOKENS_NAMES[TEXT])), DIMENSIONS)
    assert sentence.features.shape == (1, DIMENSIONS)
    assert np.isclose(np.linalg.norm(sentence.features), 1.0, atol=1e-5)
