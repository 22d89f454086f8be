"""`make run`'s launcher: starts the action server, the Rasa server (REST and socket.io, the
HTTP API only with a token) and the clinic page with standard input closed; Ctrl-C (SIGINT)
stops everything it started; a conversation survives a restart (SQLite tracker store)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import urllib.error
import urllib.request

import pytest

from tests.helpers import MODEL
from tests.stack import Stack, socket_exchange, status

pytestmark = [
    pytest.mark.model,
    pytest.mark.browser,  # the page serves the built widget (make web)
    pytest.mark.skipif(not MODEL.exists(), reason="needs the trained model"),
]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_run_serves_page_rest_socket_and_api_and_stops_on_ctrl_c(tmp_path):
    stack = Stack(tmp_path)
    stack.start()
    try:
        ready = stack.output()
        assert f"Open http://localhost:{stack.web_port}" in ready
        assert "telegram" in ready and "not configured" in ready
        children = _children(stack.proc.pid)
        assert len(children) == 3  # action server, Rasa, web page

        with urllib.request.urlopen(f"http://127.0.0.1:{stack.web_port}/", timeout=10) as resp:
            page = resp.read().decode()
        assert "Riverside Spine" in page and f":{stack.port}" in page
        assert status(f"http://127.0.0.1:{stack.web_port}/static/rasa-webchat/index.js") == 200
        assert status(f"http://127.0.0.1:{stack.web_port}/static/../../credentials.yml") == 404

        assert status(stack.url("/status")) == 401
        assert status(stack.url(f"/status?token={stack.token}")) == 200

        replies = stack.rest("run-test", "what is sciatica?")
        assert any("Sciatica" in r.get("text", "") for r in replies), replies

        replies = asyncio.run(socket_exchange(stack.url(""), "what causes sciatica?"))
        assert any("sciatica" in r.get("text", "").lower() for r in replies), replies
        assert stack.stop() == 0
    finally:
        if stack.proc.poll() is None:
            stack.proc.kill()
    log = stack.output()
    assert "Stopped." in log
    assert "tensorflow" not in log.lower()  # server noise stays in logs/, not on screen
    for child in children:
        with pytest.raises(ProcessLookupError):
            os.kill(child, 0)
    for port in (stack.port, stack.action_port, stack.web_port):
        assert not _port_open(port)

    # The tracker store is an SQLite file: after a restart "it" is still sciatica.
    stack.start()
    try:
        replies = stack.rest("run-test", "how is it treated?")
        assert any("sciatica" in r.get("text", "").lower() for r in replies), replies
    finally:
        stack.stop()
