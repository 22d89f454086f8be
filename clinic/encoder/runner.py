"""Runs the compiled encoder network (TensorFlow Lite) on a padded batch of word-piece ids.

One interpreter per process, guarded by a lock: the interpreter keeps its tensors between
calls and is not safe to share between threads. Its `invoke` releases the GIL, so the Rasa
server's event loop keeps answering while a message is encoded in the NLU thread.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np


class GraphRunner:
    """(ids, mask) of shape (texts, pieces) -> word-piece vectors (texts, pieces, 384)."""

    def __init__(self, path: Path, threads: int = 1) -> None:
        import tensorflow as tf

        # One thread: the server has other work for the second core (the action server).
        self._interpreter = tf.lite.Interpreter(model_path=str(path), num_threads=threads)
        inputs = {d["name"]: d["index"] for d in self._interpreter.get_input_details()}
        self._ids, self._mask = inputs["ids"], inputs["mask"]
        self._out = self._interpreter.get_output_details()[0]["index"]
        self._shape: tuple[int, ...] = ()
        self._lock = threading.Lock()

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        ids, mask = ids.astype(np.int32), mask.astype(np.int32)
        with self._lock:
            it = self._interpreter
            if ids.shape != self._shape:
                it.resize_tensor_input(self._ids, ids.shape)
                it.resize_tensor_input(self._mask, ids.shape)
                it.allocate_tensors()
                self._shape = ids.shape
            it.set_tensor(self._ids, ids)
            it.set_tensor(self._mask, mask)
            it.invoke()
            return it.get_tensor(self._out)
