"""A stand-in for the messaging platforms' APIs on loopback: it records every request the
Rasa server's connectors make (sending replies, registering webhooks) and answers each as the
platform would, so tests see exactly what would have reached Telegram, Messenger, Slack or
Twilio. One server for all four, by path prefix: /telegram, /facebook, /slack, /twilio.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

Answer = tuple[int, dict[str, Any]]


@dataclass
class Call:
    """One request a connector made to the platform."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        """A form-encoded body (Twilio, aiogram), one value per key."""
        return {k: v[-1] for k, v in parse_qs(self.body.decode("utf-8")).items()}


def _default(call: Call) -> Answer:
    """What each platform answers to a request it accepts."""
    if call.path.startswith("/telegram/"):
        message = {"message_id": 1, "date": int(time.time()), "chat": {"id": 1, "type": "private"}}
        result: Any = True if call.path.endswith(("/setWebhook", "/deleteWebhook")) else message
        if call.path.endswith("/getMe"):
            result = {"id": 1, "is_bot": True, "first_name": "Clinic", "username": "clinic_bot"}
        return 200, {"ok": True, "result": result}
    if call.path.startswith("/facebook/"):
        return 200, {"recipient_id": "1", "message_id": "m_1"}
    if call.path.startswith("/slack/"):
        return 200, {"ok": True, "channel": "D1", "ts": f"{time.time():.6f}"}
    if call.path.startswith("/twilio/"):
        return 201, {"sid": "SM" + "0" * 32, "status": "queued"}
    return 404, {"error": "unknown platform"}


class PlatformStub:
    """Records calls; `answer` may be replaced per path pattern by a test."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.answers: list[tuple[re.Pattern[str], Callable[[Call], Answer]]] = []
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                call = Call(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                status, body = stub.record(call)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def record(self, call: Call) -> Answer:
        with self._lock:
            self.calls.append(call)
            answers = list(self.answers)
        for pattern, answer in reversed(answers):
            if pattern.search(call.path):
                return answer(call)
        return _default(call)

    def answer(self, pattern: str, answer: Callable[[Call], Answer]) -> None:
        """Answer requests whose path matches `pattern` with `answer` (latest wins)."""
        with self._lock:
            self.answers.append((re.compile(pattern), answer))

    def since(self, mark: int, prefix: str = "") -> list[Call]:
        """The calls after `mark` (a len(stub.calls) taken earlier) under `prefix`."""
        with self._lock:
            return [c for c in self.calls[mark:] if c.path.startswith(prefix)]

    def wait(self, mark: int, prefix: str, count: int = 1, timeout: float = 60) -> list[Call]:
        """At least `count` calls under `prefix` after `mark`, then any that follow within a
        short quiet period (a reply is often several messages)."""
        deadline = time.monotonic() + timeout
        while len(self.since(mark, prefix)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{count} call(s) to {prefix} expected: {self.since(mark)}")
            time.sleep(0.1)
        settled = len(self.since(mark, prefix))
        while True:
            time.sleep(1.0)
            now = len(self.since(mark, prefix))
            if now == settled:
                return self.since(mark, prefix)
            settled = now

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
