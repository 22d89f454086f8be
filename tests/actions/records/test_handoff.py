"""Hand-off outbox (actions/records/outbox.py, handoff.py) against a real local HTTP receiver,
on both databases."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from actions.records import bookings, database, handoff
from actions.records.bookings import create_booking, request_callback
from actions.records.handoff import OutboxWorker, deliver_pending, pending_handoffs
from clinic.availability import candidate_slots, clinic_now
from tests.helpers import ROOT


class Receiver:
    """A webhook on 127.0.0.1 that records every request and answers `status`."""

    def __init__(self, port: int = 0, status: int = 200) -> None:
        self.requests: list[tuple[dict[str, str], dict]] = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:  # keep test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/clinic"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def bodies(self) -> list[dict]:
        return [body for _, body in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def no_webhook_env(monkeypatch) -> None:
    monkeypatch.delenv("HANDOFF_WEBHOOK_URL", raising=False)
    monkeypatch.delenv("HANDOFF_WEBHOOK_TOKEN", raising=False)


def book(index: int = 0, **overrides: object) -> bookings.Booking:
    start = clinic_now() + dt.timedelta(days=3)
    slot = candidate_slots(start, start + dt.timedelta(days=7))[index]
    fields = {
        "name": "Pat Example",
        "phone": "+15550100123",
        "email": "pat@example.org",
        "patient_type": "returning",
        "reason": "sciatica flare-up",
        "intake_summary": "Right leg pain 2 weeks, no red flags",
        "triage_level": "routine",
        "conversation_id": "conv-42",
    }
    return create_booking(slot=slot, **{**fields, **overrides})


def callback() -> int:
    return request_callback(
        name="Sam Example",
        phone=None,
        email="sam@example.org",
        reason="question about insurance",
        intake_summary="No symptoms discussed",
        triage_level="none",
        conversation_id="conv-43",
    )


def outbox_rows() -> list:
    with database.engine().connect() as conn:
        return list(conn.execute(select(database.outbox).order_by(database.outbox.c.id)))


def test_delivery_posts_each_event_once_with_its_key(db_url, receiver, monkeypatch):
    monkeypatch.setenv("HANDOFF_WEBHOOK_TOKEN", "test-token")
    booking = book()
    report = deliver_pending(url=receiver.url)
    assert report["delivered"] == 1 and report["failed"] == 0 and report["pending"] == 0
    [(headers, body)] = receiver.requests
    assert headers["Idempotency-Key"] == body["id"]
    assert headers["Authorization"] == "Bearer test-token"
    assert body["event"] == "booking.created"
    assert body["booking"]["reference"] == booking.reference
    assert body["booking"]["starts_at"] == booking.starts_at.isoformat()
    assert body["booking"]["ends_at"] == booking.ends_at.isoformat()
    assert body["booking"]["patient"] == {
        "name": "Pat Example",
        "phone": "+15550100123",
        "email": "pat@example.org",
        "type": "returning",
    }
    assert body["intake_summary"] == "Right leg pain 2 weeks, no red flags"
    assert body["triage_level"] == "routine" and body["conversation_id"] == "conv-42"
    assert body["clinic"]
    assert deliver_pending(url=receiver.url)["attempted"] == 0
    assert len(receiver.requests) == 1
    [row] = outbox_rows()
    assert row.status == "delivered" and row.attempts == 1 and row.delivered_at is not None


def test_webhook_url_comes_from_the_environment(db_url, receiver, monkeypatch):
    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", receiver.url)
    callback()
    assert deliver_pending()["delivered"] == 1
    [body] = receiver.bodies
    assert body["event"] == "callback.requested"
    assert body["callback"]["email"] == "sam@example.org"
    assert "Authorization" not in receiver.requests[0][0]


def test_error_answers_are_retried_later(db_url, receiver):
    receiver.status = 500
    book()
    report = deliver_pending(url=receiver.url)
    assert report["failed"] == 1 and report["errors"][0]["error"] == "HTTP 500"
    [row] = outbox_rows()
    assert row.status == "pending" and row.last_error == "HTTP 500"


def test_outage_backs_off_then_delivers_exactly_once(db_url):
    down = Receiver()
    port, url = down.port, down.url
    down.close()
    booking, callback_id = book(), callback()
    t0 = database.utcnow()

    first = deliver_pending(now=t0, url=url)
    assert first["attempted"] == 2 and first["failed"] == 2 and first["pending"] == 2
    rows = outbox_rows()
    assert [r.attempts for r in rows] == [1, 1]
    assert all("could not reach" in r.last_error for r in rows)
    delay1 = database.utc(rows[0].next_attempt_at) - t0
    assert delay1 == dt.timedelta(seconds=2)

    assert deliver_pending(now=t0 + dt.timedelta(seconds=1), url=url)["attempted"] == 0
    t1 = t0 + dt.timedelta(seconds=3)
    assert deliver_pending(now=t1, url=url)["failed"] == 2
    rows = outbox_rows()
    assert [r.attempts for r in rows] == [2, 2]
    delay2 = database.utc(rows[0].next_attempt_at) - t1
    assert delay2 == dt.timedelta(seconds=4) > delay1

    back = Receiver(port=port)
    try:
        assert deliver_pending(now=t1 + dt.timedelta(seconds=1), url=url)["attempted"] == 0
        report = deliver_pending(now=t1 + dt.timedelta(seconds=60), url=url)
        assert report["delivered"] == 2 and report["pending"] == 0
        assert deliver_pending(now=t1 + dt.timedelta(hours=1), url=url)["attempted"] == 0
        kinds = sorted(body["event"] for body in back.bodies)
        assert kinds == ["booking.created", "callback.requested"]
        created = next(b for b in back.bodies if b["event"] == "booking.created")
        assert created["booking"]["reference"] == booking.reference
        assert created["intake_summary"] == "Right leg pain 2 weeks, no red flags"
        assert created["triage_level"] == "routine"
        assert created["conversation_id"] == "conv-42"
        asked = next(b for b in back.bodies if b["event"] == "callback.requested")
        assert asked["conversation_id"] == "conv-43" and asked["triage_level"] == "none"
        assert callback_id in [r.id for r in outbox_rows()]
        assert all(r.status == "delivered" and r.attempts == 3 for r in outbox_rows())
    finally:
        back.close()


def test_backoff_doubles_up_to_the_maximum():
    cfg = handoff.config()
    delays = [cfg.backoff(n).total_seconds() for n in range(1, 15)]
    assert delays[:4] == [2, 4, 8, 16]
    assert max(delays) == cfg.backoff_max_seconds == 600


def test_without_a_webhook_events_wait_and_staff_can_list_them(db_url):
    booking = book()
    moved = bookings.reschedule_booking(
        booking.reference, "+15550100123", book_slot(5), conversation_id="conv-44"
    )
    report = deliver_pending()
    assert report["url_configured"] is False and report["pending"] == 2
    assert "HANDOFF_WEBHOOK_URL" in report["message"]
    assert [h["kind"] for h in pending_handoffs()] == ["booking.created", "booking.rescheduled"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HANDOFF_")}
    env["DATABASE_URL"] = db_url
    staff = [sys.executable, "scripts/staff.py"]
    listed = subprocess.run(
        [*staff, "handoffs"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert listed.returncode == 0, listed.stderr
    assert "booking.created" in listed.stdout and "booking.rescheduled" in listed.stdout
    assert booking.reference in listed.stdout and "Pat Example" in listed.stdout
    assert moved.starts_at.isoformat() in listed.stdout
    delivered = subprocess.run(
        [*staff, "deliver"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert delivered.returncode == 1 and "no webhook configured" in delivered.stdout
    upcoming = subprocess.run(
        [*staff, "bookings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=30
    )
    assert booking.reference in upcoming.stdout


def book_slot(index: int):
    start = clinic_now() + dt.timedelta(days=3)
    return candidate_slots(start, start + dt.timedelta(days=7))[index]


def test_staff_all_lists_delivered_events(db_url, receiver):
    book()
    deliver_pending(url=receiver.url)
    assert pending_handoffs() == []
    [item] = pending_handoffs(include_delivered=True)
    assert item["status"] == "delivered" and item["reference"]


def test_worker_delivers_in_the_background_when_nudged(db_url, receiver):
    worker = OutboxWorker(poll_interval=30, url=receiver.url)  # only a nudge is fast enough
    worker.start()
    try:
        time.sleep(0.2)  # let the first (empty) pass finish and the worker sleep
        booking = book()  # commits, then nudges every running worker
        deadline = time.monotonic() + 10
        while not receiver.bodies and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [b["booking"]["reference"] for b in receiver.bodies] == [booking.reference]
    finally:
        worker.stop()
    assert not worker.is_alive()
    assert outbox_rows()[0].status == "delivered"


def test_worker_survives_errors(monkeypatch, receiver):
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    worker = OutboxWorker(poll_interval=0.05, url=receiver.url)
    worker.start()
    try:
        time.sleep(0.3)
        assert worker.is_alive()
    finally:
        worker.stop()
