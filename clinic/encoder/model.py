"""The sentence encoder itself: all-MiniLM-L6-v2's BERT compiled for TensorFlow Lite (no
torch, no transformers at run time), its fast tokenizer, and the checkpoint's pooling (the
mean of the word-piece vectors, scaled to unit length, so a dot product is a cosine).

Loaded from build/encoder/ only (`make encoder`); the weights' sha256 and the compiled
network's record are checked first (checkpoint.verify_graph). TensorFlow is imported by the
runner only: the action server never loads it.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from clinic.encoder.checkpoint import Checkpoint, checkpoint, verify_graph
from clinic.encoder.runner import GraphRunner

DIMENSIONS = 384
BATCH = 32
#: How many of the latest texts' vectors are kept (one message's text and clauses; a few
#: messages at most, so the same words from different patients are encoded anew).
RECENT = 8


@dataclass(frozen=True)
class Encoded:
    """One text: its sentence vector, its word pieces' vectors and their character spans."""

    sentence: np.ndarray  # (384,), unit length
    pieces: np.ndarray  # (word pieces, 384), [CLS] and [SEP] left out
    offsets: list[tuple[int, int]]


class SentenceEncoder:
    """Texts to vectors with the checked checkpoint's compiled network."""

    def __init__(self, spec: Checkpoint | None = None) -> None:
        from tokenizers import Tokenizer

        spec = spec or checkpoint()
        graph = verify_graph(spec)
        tokenizer = Tokenizer.from_file(str(spec.target / "tokenizer.json"))
        tokenizer.no_padding()  # the file pads every text to 128 pieces: pooled, that blurs all
        tokenizer.enable_truncation(spec.max_tokens)
        self._tokenizer = tokenizer
        self._runner = GraphRunner(graph)
        self._recent: OrderedDict[str, Encoded] = OrderedDict()
        self._lock = threading.Lock()

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Word-piece vectors and the mean-pooled, unit-length sentence vectors."""
        hidden = self._runner.run(ids, mask)
        weights = mask[:, :, None].astype(hidden.dtype)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return hidden, pooled / norms

    def encode(self, texts: list[str]) -> list[Encoded]:
        """Each text's vectors, in order. The last few texts are remembered: within one
        message's NLU the featurizer and the red-flag net may both ask for the same text."""
        with self._lock:
            known = {t: self._recent[t] for t in texts if t in self._recent}
        fresh = list(dict.fromkeys(t for t in texts if t not in known))
        encoded = dict(zip(fresh, self._encode(fresh), strict=True))
        with self._lock:
            for text, vectors in encoded.items():
                self._recent[text] = vectors
                self._recent.move_to_end(text)
            while len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        return [known.get(t) or encoded[t] for t in texts]

    def _encode(self, texts: list[str]) -> list[Encoded]:
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
            hidden, pooled = self._run(ids, mask)
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
