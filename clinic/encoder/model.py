"""The sentence encoder itself: all-MiniLM-L6-v2's BERT on the TensorFlow Rasa already has
(no torch), its fast tokenizer, and the checkpoint's pooling (the mean of the word-piece
vectors, scaled to unit length, so a dot product is a cosine).

Loaded from build/encoder/ only (`make encoder`), with the Hugging Face libraries told to stay
offline; the weights' sha256 is checked first. One compiled graph serves every batch shape,
so no call traces again. TensorFlow is imported here only: the action server never loads it.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from clinic.encoder.checkpoint import checkpoint, verify

DIMENSIONS = 384
BATCH = 32


@dataclass(frozen=True)
class Encoded:
    """One text: its sentence vector, its word pieces' vectors and their character spans."""

    sentence: np.ndarray  # (384,), unit length
    pieces: np.ndarray  # (word pieces, 384), [CLS] and [SEP] left out
    offsets: list[tuple[int, int]]


class SentenceEncoder:
    """Texts to vectors with the checked checkpoint."""

    def __init__(self, folder: Path | None = None) -> None:
        spec = checkpoint()
        folder = folder or verify(spec)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import tensorflow as tf
        from tokenizers import Tokenizer
        from transformers import TFBertModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # "weights initialised from PyTorch" and the like
        self._tf = tf
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_padding()  # the file pads every text to 128 pieces: pooled, that blurs all
        tokenizer.enable_truncation(spec.max_tokens)
        self._tokenizer = tokenizer
        self._model = TFBertModel.from_pretrained(str(folder), local_files_only=True)
        ids = tf.TensorSpec([None, None], tf.int32)
        self._run = tf.function(self._forward, input_signature=[ids, ids])

    def _forward(self, ids, mask):
        tf = self._tf
        hidden = self._model(input_ids=ids, attention_mask=mask, training=False).last_hidden_state
        weights = tf.cast(mask, hidden.dtype)[:, :, None]
        pooled = tf.reduce_sum(hidden * weights, axis=1) / tf.maximum(
            tf.reduce_sum(weights, axis=1), 1e-9
        )
        return hidden, tf.math.l2_normalize(pooled, axis=1)

    def encode(self, texts: list[str]) -> list[Encoded]:
        """Each text's vectors, in order (batched by similar length)."""
        out: list[Encoded | None] = [None] * len(texts)
        order = sorted(range(len(texts)), key=lambda k: len(texts[k]))
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            pieces = self._tokenizer.encode_batch([texts[k] or " " for k in chunk])
            width = max(len(p.ids) for p in pieces)
            ids = np.zeros((len(chunk), width), np.int32)
            mask = np.zeros_like(ids)
            for row, piece in enumerate(pieces):
                ids[row, : len(piece.ids)] = piece.ids
                mask[row, : len(piece.ids)] = 1
            hidden, pooled = (t.numpy() for t in self._run(ids, mask))
            for row, k in enumerate(chunk):
                count = len(pieces[row].ids)
                out[k] = Encoded(
                    sentence=pooled[row],
                    pieces=hidden[row, 1 : count - 1],
                    offsets=list(pieces[row].offsets[1 : count - 1]),
                )
        return [e for e in out if e is not None]

    def sentences(self, texts: list[str]) -> np.ndarray:
        """Unit-length sentence vectors, one row per text."""
        if not texts:
            return np.zeros((0, DIMENSIONS), np.float32)
        return np.stack([e.sentence for e in self.encode(texts)])


@functools.cache
def encoder() -> SentenceEncoder:
    """The process's encoder, loaded once."""
    return SentenceEncoder()
