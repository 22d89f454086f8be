"""Shared fixtures: the knowledge base, trackers, a running action server and the trained model."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
sys.path.insert(0, str(ROOT))

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


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


@pytest.fixture(scope="session")
def kb():
    from actions.knowledge import knowledge

    return knowledge()


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
    from actions.nlp import matcher

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


@pytest.fixture(scope="session")
def action_db(tmp_path_factory) -> Path:
    """The SQLite file the test action server records to (never the developer's own)."""
    return tmp_path_factory.mktemp("db") / "clinic.db"


@pytest.fixture(scope="session")
def action_log(tmp_path_factory) -> Path:
    """Everything the test action server writes (checked for contact details in clear)."""
    return tmp_path_factory.mktemp("logs") / "actions.log"


@pytest.fixture(scope="session")
def action_server(action_db, action_log) -> Iterator[str]:
    """The real action server (scripts/action_server.py) on a free loopback port."""
    port = free_port()
    env = {**os.environ, "SANIC_HOST": "127.0.0.1", "CLINIC_DB_PATH": str(action_db)}
    env.pop("DATABASE_URL", None)
    log = action_log.open("ab")
    proc = subprocess.Popen(
        [sys.executable, "scripts/action_server.py", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", proc)
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="session")
def agent(action_server):
    """The trained model with the real action server; about 20 s to load, so loaded once."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing; `make test` trains it first")
    import rasa.utils.log_utils as log_utils

    log_utils.configure_structlog(logging.WARNING)
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    return Agent.load(str(MODEL), action_endpoint=EndpointConfig(url=action_server))


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


@pytest.fixture
def chat(agent, request):
    return Chat(agent, sender=f"test-{request.node.name}")


pytest_plugins = ["pg"]  # tests/pg.py: PostgreSQL server and per-test databases
