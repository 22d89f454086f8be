"""Bounds on what one incoming message may carry: its text, its sender id, its metadata.

Every channel's messages pass these checks on the Rasa server before anything else runs on
them (addons/serving.py), so one oversized or malformed message costs microseconds and
never holds up other people's conversations. The bounds are configurable by environment:
MAX_MESSAGE_CHARS (default 2,000), MAX_SENDER_ID_CHARS (128), MAX_METADATA_BYTES (8,192).
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Limits:
    """The bounds; `from_env` reads them, falling back to the defaults on a bad value."""

    message_chars: int = 2000
    sender_id_chars: int = 128
    metadata_bytes: int = 8192

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        env = os.environ if environ is None else environ
        defaults = cls()

        def read(name: str, default: int) -> int:
            try:
                value = int(env.get(name, default))
            except ValueError:
                return default
            return value if value > 0 else default

        return cls(
            message_chars=read("MAX_MESSAGE_CHARS", defaults.message_chars),
            sender_id_chars=read("MAX_SENDER_ID_CHARS", defaults.sender_id_chars),
            metadata_bytes=read("MAX_METADATA_BYTES", defaults.metadata_bytes),
        )


def too_long(text: str | None, limits: Limits) -> bool:
    """Whether the message text is over the length limit."""
    return text is not None and len(text) > limits.message_chars


def valid_sender_id(sender_id: Any, limits: Limits) -> bool:
    """A conversation id is a non-empty string of printable characters within the bound.

    Channels' ids (socket.io session ids, Telegram and Messenger numbers, "whatsapp:+44...")
    all pass; control characters, line breaks and very long strings do not, so they never
    reach the tracker store or the logs.
    """
    if not isinstance(sender_id, str) or not 0 < len(sender_id) <= limits.sender_id_chars:
        return False
    return not any(unicodedata.category(ch)[0] in "CZ" and ch != " " for ch in sender_id)


def bounded_metadata(metadata: Any, limits: Limits) -> dict[str, Any] | None:
    """The metadata if it is a JSON object within the size bound, else None (dropped)."""
    if metadata is None or not isinstance(metadata, dict):
        return None
    try:
        size = len(json.dumps(metadata, default=str).encode("utf-8"))
    except (TypeError, ValueError):
        return None
    return metadata if size <= limits.metadata_bytes else None
