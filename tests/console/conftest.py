"""Fixtures for the staff console: its own databases, cheap password hashes, and the clinic
page's web server (scripts/web.py's handler) on an ephemeral loopback port, in-process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from console import accounts
from tests.console.client import Client

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def console_env(tmp_path: Path, monkeypatch) -> Path:
    """Every console test on its own clinic database, tracker store and var/ (the session's
    CLINIC_DATA_KEY from tests/conftest.py opens the sealed contact details)."""
    monkeypatch.setenv("CLINIC_DB_PATH", str(tmp_path / "clinic.db"))
    monkeypatch.setenv("TRACKER_DB_PATH", str(tmp_path / "tracker.db"))
    monkeypatch.setenv("CLINIC_VAR_DIR", str(tmp_path / "var"))
    for name in ("DATABASE_URL", "TRACKER_DB_URL", "HANDOFF_WEBHOOK_URL", "STAFF_ADMIN_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch) -> None:
    """argon2id with small costs: the same code path, in milliseconds instead of 150 ms."""
    monkeypatch.setattr(
        accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    accounts._dummy_hash.cache_clear()


@pytest.fixture
def staff() -> str:
    """A staff account, `alice`, with PASSWORD."""
    return accounts.add_user("alice", PASSWORD)


@pytest.fixture
def server() -> Iterator[str]:
    """scripts/web.py's handler on a free loopback port; its base URL."""
    from scripts.web import Handler

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


@pytest.fixture
def client(server) -> Client:
    return Client(server)


@pytest.fixture
def signed_in(client, staff) -> Client:
    """A browser signed in as alice."""
    client.sign_in(staff, PASSWORD)
    return client
