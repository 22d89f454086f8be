"""Plain helpers shared by the tests (no fixtures: those are in tests/conftest.py).

Import them as `from tests.helpers import ...`; the repository root is on sys.path (the
editable install, PYTHONPATH, or `python -m pytest` from the root).
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "spine-clinic.tar.gz"

#: The condition ids other parts of the product (and later checks) rely on.
CONDITION_IDS = (
    "herniated_disc",
    "degenerative_disc_disease",
    "spondylolisthesis",
    "spinal_stenosis",
    "osteoarthritis",
    "sciatica",
    "muscle_strain",
)


def leaves(node: Any, path: str = "") -> Any:
    """(path, value) for every leaf of parsed YAML or JSON: "a.b[0].c" style paths."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from leaves(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from leaves(value, f"{path}[{index}]")
    else:
        yield path, node


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(url)


def make_tracker(
    text: str = "",
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    intent: str = "ask_condition_info",
):
    """A rasa-sdk tracker whose latest user message is `text` with `entities`."""
    from rasa_sdk import Tracker

    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
    }
    events = [{"event": "user", "text": text, "parse_data": message}]
    return Tracker(
        sender_id="test",
        slots=slots or {},
        latest_message=message,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def entities_in(text: str) -> list[dict[str, Any]]:
    """Entities as the NLU pipeline would attach them (same matcher, same pipeline)."""
    from clinic.nlp import matcher

    return [
        {
            "entity": e.label,
            "value": e.id,
            "start": e.start,
            "end": e.end,
            "confidence_entity": e.confidence,
        }
        for e in matcher()(text)
    ]


def run_action(action, tracker):
    """Run a rasa-sdk action; return (messages, events)."""
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, events


class Chat:
    """One conversation with the agent: send text, get the bot's messages back."""

    def __init__(self, agent, sender: str) -> None:
        self.agent, self.sender = agent, sender
        self.last: list[dict[str, Any]] = []

    def __call__(self, text: str) -> list[dict[str, Any]]:
        self.last = asyncio.run(self.agent.handle_text(text, sender_id=self.sender))
        return self.last

    def slot(self, name: str):
        tracker = asyncio.run(self.agent.tracker_store.retrieve(self.sender))
        return tracker.get_slot(name)
