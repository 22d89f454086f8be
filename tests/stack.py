"""The whole assistant as `make run` starts it (scripts/run.py), on free loopback ports with
its own databases and token, for tests that need the real thing: REST, socket.io, the page."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.helpers import ROOT, free_port

READY_TIMEOUT = 240  # seconds: the model alone takes about 20 s to load on 2 cores


def status(url: str) -> int:
    """The HTTP status of a GET (errors included)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return 0


class Stack:
    """scripts/run.py with standard input closed; `start()` waits for its ready line."""

    def __init__(self, tmp: Path, env: dict[str, str] | None = None) -> None:
        self.tmp = tmp
        self.extra_env = env or {}
        self.port, self.action_port, self.web_port = free_port(), free_port(), free_port()
        self.clinic_db = tmp / "clinic.db"
        self.token = "test-token-not-secret"
        self.log = tmp / "run.log"
        self.proc: subprocess.Popen | None = None

    @property
    def page_url(self) -> str:
        return f"http://localhost:{self.web_port}/"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> None:
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "CLINIC_DB_PATH": str(self.clinic_db),
            "TRACKER_DB_PATH": str(self.tmp / "tracker.db"),
            "RASA_AUTH_TOKEN": self.token,
            "RASA_TELEMETRY_ENABLED": "false",
            # its own run-time files and logs, not the checkout's var/ and logs/
            "CLINIC_VAR_DIR": str(self.tmp / "var"),
            "CLINIC_LOG_DIR": str(self.tmp / "logs"),
            **self.extra_env,
        }
        env.pop("DATABASE_URL", None)  # bookings must land in CLINIC_DB_PATH
        ports = [
            "--port",
            self.port,
            "--action-port",
            self.action_port,
            "--web-port",
            self.web_port,
        ]
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "scripts/run.py", *map(str, ports)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.ready():
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"scripts/run.py exited with {self.proc.returncode}:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready in {READY_TIMEOUT} s:\n{self.output()}")
            time.sleep(1)

    def ready(self) -> bool:
        """The launcher printed its "Open <page>" line and the page answers."""
        printed = any(
            line.startswith("Open ") and f":{self.web_port}" in line
            for line in self.output().splitlines()
        )
        return printed and status(f"http://127.0.0.1:{self.web_port}/") == 200

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> int | None:
        """Ctrl-C, as a person would; the launcher's exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            return None

    def children(self) -> dict[int, str]:
        """The launcher's child processes: pid -> command line."""
        assert self.proc is not None
        out = subprocess.run(
            ["ps", "-o", "pid=,args=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        )
        pairs = (line.strip().split(None, 1) for line in out.stdout.splitlines() if line.strip())
        return {int(pid): args for pid, args in pairs}

    def child(self, fragment: str) -> int:
        """The pid of the one child whose command line holds `fragment`."""
        found = [pid for pid, args in self.children().items() if fragment in args]
        assert len(found) == 1, (fragment, self.children())
        return found[0]

    def log_of(self, name: str) -> str:
        path = self.tmp / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def user_texts(self, conversation: str) -> list[str]:
        """What the tracker recorded the person saying (the HTTP API, with the token)."""
        url = self.url(f"/conversations/{conversation}/tracker?token={self.token}")
        with urllib.request.urlopen(url, timeout=30) as resp:
            events = json.loads(resp.read())["events"]
        return [e.get("text") for e in events if e["event"] == "user"]

    def rest(self, sender: str, message: str) -> list[dict]:
        request = urllib.request.Request(
            self.url("/webhooks/rest/webhook"),
            data=json.dumps({"sender": sender, "message": message}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as resp:
            return json.loads(resp.read())


async def socket_exchange(base: str, text: str) -> list[dict]:
    """What the website widget does: session_request, session_confirm, user_uttered."""
    import socketio

    client = socketio.AsyncClient()
    confirmed, replies = asyncio.Event(), []
    client.on("session_confirm", lambda *_: confirmed.set())
    client.on("bot_uttered", lambda data: replies.append(data))
    await client.connect(base, socketio_path="/socket.io", transports=["polling", "websocket"])
    try:
        await client.emit("session_request", {"session_id": "socket-test"})
        await asyncio.wait_for(confirmed.wait(), 30)
        await client.emit("user_uttered", {"message": text, "session_id": "socket-test"})
        deadline = time.monotonic() + 60
        while not replies and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # the rest of the turn's messages
        return replies
    finally:
        await client.disconnect()
