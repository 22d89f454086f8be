"""Each message's NLU runs in one worker thread (addons/nlu_thread.py): while a message is
parsed, the event loop keeps serving other conversations; the parse result and what Rasa
does with it are unchanged; two parses never run at once."""

from __future__ import annotations

import asyncio
import threading
import time

from rasa.core.channels.channel import UserMessage

from addons import nlu_thread


class FakeProcessor:
    """What parse_message touches on a MessageProcessor; the graph run takes `seconds`."""

    http_interpreter = None

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.threads: list[str] = []
        self.running = 0
        self.most_at_once = 0
        self.checked: list[dict] = []
        self._count = threading.Lock()

    def _parse_message_with_graph(self, message, tracker, only_output_properties):
        with self._count:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        self.threads.append(threading.current_thread().name)
        time.sleep(self.seconds)  # releases the GIL, as the encoder's network does
        with self._count:
            self.running -= 1
        return {"text": message.text, "intent": {"name": "greet"}, "entities": []}

    def _update_full_retrieval_intent(self, parse_data):
        parse_data["updated"] = True

    def _check_for_unseen_features(self, parse_data):
        self.checked.append(parse_data)


def parse(processor, text):
    return nlu_thread.parse_message(processor, UserMessage(text, sender_id="a"))


def test_the_loop_keeps_running_while_a_message_is_parsed():
    processor = FakeProcessor(seconds=0.3)
    ticks = []

    async def ticker():
        for _ in range(10):
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.01)

    async def main():
        return await asyncio.gather(parse(processor, "hi"), ticker())

    started = time.perf_counter()
    parsed, _ = asyncio.run(main())
    assert parsed == {"text": "hi", "intent": {"name": "greet"}, "entities": [], "updated": True}
    assert processor.checked == [parsed]
    assert processor.threads[0].startswith("nlu")
    assert ticks[-1] - started < 0.25  # the ticker finished before the parse did


def test_messages_are_parsed_one_at_a_time_in_arrival_order():
    processor = FakeProcessor(seconds=0.02)

    async def main():
        return await asyncio.gather(*(parse(processor, f"m{k}") for k in range(6)))

    parsed = asyncio.run(main())
    assert [p["text"] for p in parsed] == [f"m{k}" for k in range(6)]
    assert processor.most_at_once == 1
    assert len(set(processor.threads)) == 1
