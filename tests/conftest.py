"""Shared fixtures: the knowledge base, a running action server and the trained model.

Plain helpers (trackers, ports, the chat class) are in tests/helpers.py.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import MODEL, ROOT, Chat, free_port, wait_for_http

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
if "CLINIC_DATA_KEY" not in os.environ:
    # Contact details are sealed at rest (actions/records/sealed.py): one key for the test
    # session and the servers it starts, never the developer's var/data-key.
    from cryptography.fernet import Fernet

    os.environ["CLINIC_DATA_KEY"] = Fernet.generate_key().decode("ascii")

pytest_plugins = [
    "tests.pg",  # PostgreSQL server and per-test databases
    "tests.servers",  # Redis, and the Debian packages the replicas mode needs
]


@pytest.fixture(scope="session")
def kb():
    from clinic.knowledge import knowledge

    return knowledge()


@pytest.fixture(scope="session")
def nlu_examples():
    """scripts.evaluate_nlu.load_examples, each file read once a session: Rasa's reader takes
    seconds on the training data, which several modules check."""
    from scripts.evaluate_nlu import load_examples

    cache: dict[Path, list] = {}

    def load(path) -> list:
        key = Path(path).resolve()
        if key not in cache:
            cache[key] = load_examples(key)
        return cache[key]

    return load


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
def agent(action_server, tmp_path_factory):
    """The trained model with the real action server and the tracker store `make run` uses
    (on a test file); about 20 s to load, so loaded once."""
    if not MODEL.exists():
        pytest.fail(f"{MODEL} is missing; `make test` trains it first")
    import rasa.utils.log_utils as log_utils

    log_utils.configure_structlog(logging.WARNING)
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from addons.tracker_store import CachedSQLTrackerStore

    db = tmp_path_factory.mktemp("tracker") / "tracker.db"
    store = CachedSQLTrackerStore(dialect="sqlite", db=str(db))
    return Agent.load(
        str(MODEL), action_endpoint=EndpointConfig(url=action_server), tracker_store=store
    )


@pytest.fixture
def chat(agent, request):
    return Chat(agent, sender=f"test-{request.node.name}")


#: Fixtures that need more than a built .venv and the spaCy pipeline, and the markers a test
#: using one (itself or through another fixture) must carry so that `make unit` leaves it out.
NEEDS_MARKERS = {
    "agent": {"model"},
    "chat": {"model"},
    "postgres_url": {"postgres"},
    "redis_url": {"scale"},
    # tests/web/test_widget_browser.py: headless Chromium, and the whole stack with the widget
    "browser": {"browser"},
    "stack": {"model", "browser"},
    # tests/channels/: the whole assistant with the messaging platforms on
    "channels": {"model"},
}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects anything: every run checks every test
def pytest_collection_modifyitems(config, items):
    """Fail the collection when a test uses a fixture of NEEDS_MARKERS without its markers."""
    unmarked = []
    for item in items:
        used = sorted(NEEDS_MARKERS.keys() & set(getattr(item, "fixturenames", ())))
        needed = set().union(*(NEEDS_MARKERS[f] for f in used))
        lacking = sorted(m for m in needed if item.get_closest_marker(m) is None)
        if lacking:
            uses, marks = ", ".join(used), " ".join(lacking)
            unmarked.append(f"{item.nodeid} (uses {uses}): not marked {marks}")
    if unmarked:
        raise pytest.UsageError(
            "a test that needs the trained model, a browser or PostgreSQL must carry its marker "
            "(`pytestmark = pytest.mark.model` for a module, or @pytest.mark.model on the test):"
            "\n  " + "\n  ".join(unmarked)
        )
