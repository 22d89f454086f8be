"""The sentence encoder itself: all-MiniLM-L6-v2's BERT compiled for TensorFlow Lite (no
torch, no transformers at run time), its fast tokenizer, and the checkpoint's pooling (the
mean of the word-piece vectors, scaled to unit length, so a dot product is a cosine).

Loaded from build/encoder/ only (`make encoder`); the weights' sha256 and the compiled
network's record are checked first (checkpoint.verify_graph). TensorFlow is imported by the
runner only: the action server never loads it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from clinic.encoder.checkpoint import Checkpoint, checkpoint, verify_graph
from clinic.encoder.runner import GraphRunner

DIMENSIONS = 384
#: Texts per network run: 8 keeps the interpreter's working memory small when the red-flag net
#: encodes its phrasings at load (32 held about 80 MB more); a message is one text anyway.
BATCH = 8
#: The most prepared vectors kept (messages waiting for the NLU; a bound in case some are
#: never parsed and forgotten).
PREPARED = 256


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
        self._prepared: OrderedDict[str, Encoded] = OrderedDict()
        self._lock = threading.Lock()

    def _run(self, ids: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Word-piece vectors and the mean-pooled, unit-length sentence vectors."""
        hidden = self._runner.run(ids, mask)
        weights = mask[:, :, None].astype(hidden.dtype)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return hidden, pooled / norms

    def prepare(self, texts: list[str]) -> None:
        """Encode `texts` now, in shared network runs, and keep their vectors until
        `forget`: the server prepares a message's texts (and those of the messages waiting
        behind it) before its NLU runs. One run for several short texts costs little more
        than for one: the network's weights are read once (8.5 ms for one text, about 4 ms
        a text in runs of 8, on this machine)."""
        _, encoded = self._split(texts)
        with self._lock:
            self._prepared.update(encoded)
            while len(self._prepared) > PREPARED:
                self._prepared.popitem(last=False)

    def forget(self, texts: list[str]) -> None:
        """Drop prepared vectors once their message's NLU is done (nothing is kept across
        messages: the same words from another patient are encoded anew)."""
        with self._lock:
            for text in texts:
                self._prepared.pop(text, None)

    def encode(self, texts: list[str]) -> list[Encoded]:
        """Each text's vectors, in order: prepared ones as they are, the rest encoded."""
        known, encoded = self._split(texts)
        return [known.get(t) or encoded[t] for t in texts]

    def _split(self, texts: list[str]) -> tuple[dict[str, Encoded], dict[str, Encoded]]:
        """The prepared vectors among `texts`, and the others, encoded now (once each)."""
        with self._lock:
            known = {t: self._prepared[t] for t in texts if t in self._prepared}
        fresh = list(dict.fromkeys(t for t in texts if t not in known))
        encoded = self._encode(fresh) if fresh else []
        return known, dict(zip(fresh, encoded, strict=True))

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


_LOADED: list[SentenceEncoder] = []
_LOADING = threading.Lock()


def encoder() -> SentenceEncoder:
    """The process's encoder, loaded once."""
    with _LOADING:
        if not _LOADED:
            _LOADED.append(SentenceEncoder())
        return _LOADED[0]


def loaded() -> SentenceEncoder | None:
    """The process's encoder if something has loaded it (a pipeline without it never does)."""
    return _LOADED[0] if _LOADED else None


_WANTS: list[Callable[[str], list[str]]] = []


def wants(texts_of: Callable[[str], list[str]]) -> None:
    """A component declares which texts it will ask the encoder for, given a message's text
    (the featurizer: the text; the red-flag net: its clauses), so that the server can
    prepare them all in shared network runs before the NLU runs (addons/nlu_thread.py)."""
    if texts_of not in _WANTS:
        _WANTS.append(texts_of)


def texts_for(text: str) -> list[str]:
    """Every text the loaded components will ask the encoder for, for this message."""
    if not text:
        return []
    return list(dict.fromkeys(t for texts_of in _WANTS for t in texts_of(text) if t))
