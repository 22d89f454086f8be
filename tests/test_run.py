"""`make run`'s launcher: starts both servers with standard input closed, answers over REST on
loopback, and Ctrl-C (SIGINT) stops everything it started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import MODEL, ROOT, free_port


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


@pytest.mark.skipif(not MODEL.exists(), reason="needs the trained model (make test trains it)")
def test_run_serves_rest_and_stops_on_ctrl_c(tmp_path):
    if _port_open(5055):
        pytest.fail("port 5055 (action server, endpoints.yml) is busy; stop the running assistant")
    port = free_port()
    out = open(tmp_path / "run.out", "w+")  # noqa: SIM115 (read back below)
    proc = subprocess.Popen(
        [sys.executable, "scripts/run.py", "--port", str(port)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=out,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 240
        while "The assistant is ready" not in (tmp_path / "run.out").read_text():
            assert proc.poll() is None, (tmp_path / "run.out").read_text()
            assert time.monotonic() < deadline, "not ready in time"
            time.sleep(1)
        children = _children(proc.pid)
        assert len(children) == 2
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/webhooks/rest/webhook",
            data=json.dumps({"sender": "run-test", "message": "what is sciatica?"}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as resp:
            replies = json.loads(resp.read())
        assert any("Sciatica" in r.get("text", "") for r in replies), replies
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    log = (tmp_path / "run.out").read_text()
    assert "Stopped." in log
    assert "tensorflow" not in log.lower()  # server noise stays in logs/, not on screen
    for child in children:
        with pytest.raises(ProcessLookupError):
            os.kill(child, 0)
    assert not _port_open(port) and not _port_open(5055)
