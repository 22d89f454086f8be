"""The pre-trained sentence encoder: which checkpoint, how it is checked, and the model.

`checkpoint` and `verify` need no TensorFlow; `encoder()` loads the model (Rasa server only).
"""

from clinic.encoder.checkpoint import (
    Checkpoint,
    EncoderError,
    checkpoint,
    sha256_of,
    verify,
    verify_graph,
)

__all__ = ["Checkpoint", "EncoderError", "checkpoint", "sha256_of", "verify", "verify_graph"]
