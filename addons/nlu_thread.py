"""The NLU of each message runs in one worker thread, off the server's event loop.

Rasa 3.6 parses a message inside its event loop (`MessageProcessor.parse_message` calls the
NLU graph synchronously), so while one message is parsed no other patient's request moves:
not its tracker read, its policies, nor its call to the action server. The sentence
encoder's network, the largest part of the NLU's time, runs in native code that releases
the GIL (clinic/encoder/runner.py), as do spaCy's and the classifiers' numeric parts; run in
a thread, that time overlaps the loop's work for other conversations on the second core.

One thread, so the NLU components (the spaCy pipeline, the encoder's interpreter) are never
used by two messages at once, in the order the messages arrived. The parse of one
conversation's message still happens under that conversation's lock, as before.

Before a message's NLU runs, the texts its components will ask the sentence encoder for
(the message; the red-flag net's clauses) are encoded together with those of up to
`AHEAD` texts of the messages waiting behind it, in shared network runs: one run reads the
network's weights once for several short texts (clinic/encoder/model.py `prepare`).
"""

from __future__ import annotations

import asyncio
import copy
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import rasa.core.processor
from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

from clinic.encoder.model import loaded, texts_for

_WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
AHEAD = 16  # texts of waiting messages encoded with a message's own

_waiting: list[str] = []  # texts of the messages handed to the worker, in order
_waiting_lock = threading.Lock()


def _parse(processor: MessageProcessor, message: UserMessage, *args: Any) -> dict[str, Any]:
    """The NLU graph on one message, in the worker, its encoder texts prepared first."""
    text = message.text or ""
    with _waiting_lock:
        _waiting.remove(text)
        behind = list(_waiting)
    sentences = loaded()
    mine = texts_for(text) if sentences else []
    if sentences is not None:
        ahead = [t for other in behind for t in texts_for(other)][:AHEAD]
        sentences.prepare(mine + ahead)
    try:
        return processor._parse_message_with_graph(message, *args)
    finally:
        if sentences is not None:
            sentences.forget(mine)


async def parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker | None = None,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    """Rasa 3.6.21's `MessageProcessor.parse_message`, with the graph run in the worker."""
    if self.http_interpreter:
        parse_data = await self.http_interpreter.parse(message)
    else:
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        with _waiting_lock:
            _waiting.append(message.text or "")
        parse_data = await asyncio.get_running_loop().run_in_executor(
            _WORKER, _parse, self, message, tracker, only_output_properties
        )
    self._update_full_retrieval_intent(parse_data)
    rasa.core.processor.structlogger.debug(
        "processor.message.parse",
        parse_data_text=copy.deepcopy(parse_data["text"]),
        parse_data_intent=parse_data["intent"],
        parse_data_entities=copy.deepcopy(parse_data["entities"]),
    )
    self._check_for_unseen_features(parse_data)
    return parse_data


def install() -> None:
    """Parse every message in the NLU worker thread."""
    MessageProcessor.parse_message = parse_message
