"""Build time only (`make encoder`): the checked checkpoint compiled for TensorFlow Lite.

The Keras model of transformers added about 325 MB to a process that already has TensorFlow
(the model, its training-ready variables and the transformers modules); the compiled network
runs the same arithmetic in float32 from one flat file, about 50 MB once loaded, and needs
neither transformers nor a traced tf.function at serving time. Not quantised: int8 weights
moved sentence vectors of short messages to a cosine of 0.90-0.97 from the checkpoint's.

The compiled file is accepted only when it gives the Keras model's vectors to within
`TOLERANCE` on `PROBES`; a record of both sha256s lets the loader check it was compiled from
the published weights.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from clinic.encoder.checkpoint import Checkpoint, EncoderError, sha256_of, verify

#: Largest difference allowed between the compiled and the Keras model's word-piece vectors.
TOLERANCE = 1e-4

#: Texts of different lengths, padded together in one batch, to compare the two models on.
PROBES = (
    "hi",
    "my lower back hurts when I cough and it goes down my left leg",
    "I can't feel the toilet paper when I wipe",
    "3 days",
)


def _keras_forward(folder: Path):
    """The transformers Keras model as a tf.function of (ids, mask) -> word-piece vectors."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import tensorflow as tf
    from transformers import TFBertModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # "weights initialised from PyTorch" and the like
    model = TFBertModel.from_pretrained(str(folder), local_files_only=True)
    spec = tf.TensorSpec([None, None], tf.int32)

    @tf.function(input_signature=[spec, spec])
    def forward(ids, mask):
        return model(input_ids=ids, attention_mask=mask, training=False).last_hidden_state

    return forward


def _probe_batch(folder: Path) -> tuple[np.ndarray, np.ndarray]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_padding()
    pieces = [tokenizer.encode(text).ids for text in PROBES]
    ids = np.zeros((len(pieces), max(map(len, pieces))), np.int32)
    for row, p in enumerate(pieces):
        ids[row, : len(p)] = p
    return ids, (ids > 0).astype(np.int32)


def compile_graph(spec: Checkpoint) -> Path:
    """spec.graph_path compiled from the verified weights and checked against the Keras
    model; kept as it is when its record already matches."""
    from clinic.encoder.checkpoint import verify_graph

    try:
        return verify_graph(spec)
    except EncoderError:
        pass
    folder = verify(spec)
    import tensorflow as tf

    from clinic.encoder.runner import GraphRunner

    forward = _keras_forward(folder)
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [forward.get_concrete_function()], forward
    )
    staging = spec.graph_path.with_suffix(".partial")
    staging.write_bytes(converter.convert())
    try:
        ids, mask = _probe_batch(folder)
        expected = forward(ids, mask).numpy()
        got = GraphRunner(staging).run(ids, mask)
        worst = float(np.abs(expected - got)[mask.astype(bool)].max())
        if worst > TOLERANCE:
            raise EncoderError(
                f"the compiled encoder differs from the checkpoint by {worst:.2g} "
                f"(allowed {TOLERANCE}); not kept"
            )
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    staging.rename(spec.graph_path)
    record = {
        "weights_sha256": spec.weights_sha256,
        "graph_sha256": sha256_of(spec.graph_path),
        "largest_difference": worst,
        "tensorflow": tf.__version__,
    }
    spec.graph_record_path.write_text(json.dumps(record, indent=2) + "\n")
    return spec.graph_path
