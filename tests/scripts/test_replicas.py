"""`RASA_REPLICAS=2 make run` with real parts: two Rasa servers and two action servers behind
nginx, Rasa's Redis lock store (atomic, addons/lock_store.py) and the PostgreSQL tracker
store. One conversation moving between the replicas keeps its state and its order, messages
sent at once are none of them lost, and Redis or PostgreSQL going away gets a clear reply,
comes back by itself, and loses no booking."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from scripts import scale_out
from tests.helpers import MODEL
from tests.servers import ensure_packages
from tests.stack import Stack, socket_exchange

pytestmark = [
    pytest.mark.model,
    pytest.mark.browser,  # the page serves the built widget (make web)
    pytest.mark.scale,
    pytest.mark.postgres,
    pytest.mark.skipif(not MODEL.exists(), reason="needs the trained model"),
]
REFERENCE = re.compile(r"\bBK-[A-Z0-9]{6}\b")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    ensure_packages("redis-server", "nginx")
    if not (scale_out.binary("postgres") and scale_out.binary("initdb")):
        pytest.skip("PostgreSQL 15 is not installed (sudo apt-get install postgresql-15)")
    # Run-time files in a folder PostgreSQL's user (`nobody` under root) can reach: pytest's
    # own temporary folders are private to the user running the tests.
    var = tempfile.mkdtemp(prefix="clinic-replicas-")
    os.chmod(var, 0o755)
    env = {"RASA_REPLICAS": "2", "CLINIC_VAR_DIR": var}
    running = Stack(tmp_path_factory.mktemp("replicas"), env=env)
    running.start()
    yield running
    running.stop()
    shutil.rmtree(var, ignore_errors=True)


def run_dir(stack: Stack) -> Path:
    return Path(stack.extra_env["CLINIC_VAR_DIR"]) / "run"


def replica_ports(stack: Stack) -> list[int]:
    conf = (run_dir(stack) / "nginx.conf").read_text()
    upstream = conf.split("upstream rasa {")[1].split("}")[0]
    return [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", upstream)]


def post(port: int, sender: str, message: str) -> list[dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=120) as resp:
        return json.loads(resp.read())


def texts(replies: list[dict]) -> str:
    return "\n".join(r.get("text", "") for r in replies)


def user_messages(stack: Stack, sender: str) -> list[str]:
    url = stack.url(f"/conversations/{sender}/tracker?token={stack.token}")
    with urllib.request.urlopen(url, timeout=30) as resp:
        events = json.load(resp)["events"]
    return [e["text"] for e in events if e["event"] == "user"]


def wait_until_answered(stack: Stack, timeout: float = 90) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        replies = stack.rest("probe", "what are your opening hours?")
        if "having a problem" not in texts(replies):
            return replies
        if time.monotonic() > deadline:
            raise AssertionError(f"not answering normally within {timeout} s: {replies}")
        time.sleep(1)


def test_a_conversation_moving_between_replicas_keeps_its_state_and_order(stack):
    first, second = replica_ports(stack)
    story = [
        (first, "I've had lower back pain for about a week"),
        (second, "3 days"),
        (first, "worse when I cough"),
        (second, "what causes sciatica?"),
    ]
    for port, message in story:
        assert post(port, "moving", message)
    assert "sciatica" in texts(post(first, "moving", "how is it treated?")).lower()
    assert user_messages(stack, "moving") == [m for _, m in story] + ["how is it treated?"]


def test_the_widget_talks_socketio_through_nginx_to_one_replica(stack):
    """socket.io (polling, then a websocket) through nginx: its session lives in one Rasa
    server's memory, so every request of it must reach that server."""
    replies = asyncio.run(socket_exchange(stack.url(""), "what causes sciatica?"))
    assert any("sciatica" in r.get("text", "").lower() for r in replies), replies


def test_messages_sent_at_once_to_both_replicas_are_none_of_them_lost(stack):
    ports = replica_ports(stack)
    sent = [f"message {i} thanks" for i in range(12)]
    for batch in range(3):
        chunk = sent[batch * 4 : batch * 4 + 4]
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda im: post(ports[im[0] % 2], "at-once", im[1]), enumerate(chunk)))
    assert sorted(user_messages(stack, "at-once")) == sorted(sent)


def choose(replies: list[dict], title: str) -> str:
    """The payload of the button whose title matches `title`."""
    for reply in replies:
        for button in reply.get("buttons") or []:
            if re.search(title, button.get("title", "")):
                return button["payload"]
    raise AssertionError(f"no button {title!r} in {replies}")


def book(stack: Stack, sender: str) -> str:
    """A booking over REST, the way the widget's buttons do it; its reference."""
    replies = stack.rest(sender, "I'd like to book an appointment")
    if "seen for" in texts(replies):
        replies = stack.rest(sender, "lower back pain")
    replies = stack.rest(sender, choose(replies, "first visit"))
    replies = stack.rest(sender, choose(replies, "As soon as possible"))
    replies = stack.rest(sender, choose(replies, r"\d{1,2}:\d{2} with "))
    replies = stack.rest(sender, "Zoë O'Brien")
    replies = stack.rest(sender, "zoe@example.com")
    booked = texts(stack.rest(sender, choose(replies, "^Yes")))
    found = REFERENCE.search(booked)
    assert found, booked
    return found.group(0)


def clinic_db_url(stack: Stack) -> str:
    tracker = yaml.safe_load((run_dir(stack) / "endpoints.yml").read_text())
    return f"postgresql://postgres@127.0.0.1:{tracker['tracker_store']['port']}/clinic"


def booked(url: str, reference: str) -> bool:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT status FROM bookings WHERE reference = %s", (reference,))
        return cur.fetchone() == ("booked",)


def test_redis_or_postgresql_going_away_gets_a_clear_reply_and_loses_no_booking(stack):
    reference = book(stack, "booking-patient")
    assert booked(clinic_db_url(stack), reference)
    assert "sciatica" in texts(stack.rest("away", "what causes sciatica?")).lower()

    os.kill(stack.child("redis-server"), signal.SIGKILL)
    assert "Nothing you told me earlier is lost" in texts(stack.rest("away", "and the outlook?"))
    wait_until_answered(stack)

    os.kill(stack.child("bin/postgres"), signal.SIGKILL)
    assert "Nothing you told me earlier is lost" in texts(stack.rest("away", "how is it treated?"))
    wait_until_answered(stack)
    assert "sciatica" in texts(stack.rest("away", "how is it treated?")).lower()
    assert booked(clinic_db_url(stack), reference)
    assert "restarting it in 1 s" in stack.output()
