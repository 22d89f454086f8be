"""The console's pages and API over HTTP: the records shown, the audit log written, the
two actions (mark done, retry now), bad input, and the pages' accessibility basics."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from sqlalchemy import select

from actions.records.callbacks import list_callbacks
from actions.records.database import engine as records_engine
from actions.records.database import outbox, utc
from console import audit
from tests.actions.records.samples import NAME, book
from tests.console.client import basic
from tests.console.conftest import PASSWORD
from tests.console.seed import callback, red_flag, tracker_events

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.timezone.utc)


def audited() -> list[tuple[str, str]]:
    return [(a.username, a.what) for a in reversed(audit.entries())]


def test_the_bookings_page_shows_the_booking_and_is_audited(signed_in):
    booking = book()
    page = signed_in.get("/staff/bookings")
    assert page.status == 200
    assert booking.reference in page.text
    assert "Zoë O&#x27;Brien" in page.text  # escaped, and opened from its sealed form
    assert "+15550100123" in page.text and "Low back pain, 3 weeks" in page.text
    assert 'class="level level-routine">routine<' in page.text
    assert audited() == [("alice", "bookings list")]
    api = signed_in.get("/staff/api/bookings", headers=basic("alice", PASSWORD), cookies=False)
    [item] = api.json()["bookings"]
    assert item["reference"] == booking.reference and item["patient_name"] == NAME
    assert audited()[-1] == ("alice", "bookings list (API)")


def test_what_patients_wrote_is_escaped(signed_in):
    callback(name="<script>alert(1)</script>")
    page = signed_in.get("/staff/callbacks")
    assert "<script>alert(1)" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_marking_a_call_back_done_takes_it_off_the_open_list(signed_in):
    callback()
    [open_request] = list_callbacks()
    page = signed_in.get("/staff/callbacks")
    assert "Zoë O&#x27;Brien" in page.text and "Mark done" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = signed_in.post(f"/staff/callbacks/{open_request.id}/done", {"csrf": csrf})
    assert answer.status == 303
    assert answer.headers["Location"] == f"/staff/callbacks?done={open_request.id}"
    assert list_callbacks() == []
    [done] = list_callbacks(include_done=True)
    assert done.status == "done" and done.handled_by == "alice"
    after = signed_in.get(answer.headers["Location"])
    assert f"Call-back request #{open_request.id} marked done." in after.text
    assert "No call-backs to handle." in after.text
    again = signed_in.post(f"/staff/callbacks/{open_request.id}/done", {"csrf": csrf})
    assert again.status == 404
    shown = signed_in.get("/staff/callbacks?all=1").text
    assert "done by alice" in shown


def test_the_api_marks_a_call_back_done(signed_in):
    callback()
    [request] = list_callbacks()
    auth = basic("alice", PASSWORD)
    answer = signed_in.post(f"/staff/api/callbacks/{request.id}/done", headers=auth, cookies=False)
    assert answer.json() == {"id": request.id, "status": "done", "handled_by": "alice"}
    listed = signed_in.get("/staff/api/callbacks", headers=auth, cookies=False).json()
    assert listed == {"callbacks": []}


class Receiver(BaseHTTPRequestHandler):
    """The clinic's system: answers every POST with `status`."""

    status = 200
    received: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        Receiver.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(Receiver.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def webhook(monkeypatch) -> Iterator[type[Receiver]]:
    Receiver.status, Receiver.received = 200, []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", f"http://127.0.0.1:{httpd.server_address[1]}/")
    try:
        yield Receiver
    finally:
        httpd.shutdown()
        httpd.server_close()


def outbox_row(outbox_id: int):
    with records_engine().connect() as conn:
        return conn.execute(select(outbox).where(outbox.c.id == outbox_id)).one()


def test_retry_now_without_a_webhook_makes_the_event_due(signed_in):
    outbox_id = callback()
    page = signed_in.get("/staff/handoffs")
    assert "No webhook is configured" in page.text and f"#{outbox_id}" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = signed_in.post(f"/staff/handoffs/{outbox_id}/retry", {"csrf": csrf})
    assert answer.headers["Location"] == f"/staff/handoffs?retried={outbox_id}&outcome=pending"
    assert outbox_row(outbox_id).status == "pending"
    assert signed_in.post("/staff/handoffs/999/retry", {"csrf": csrf}).status == 404


def test_retry_now_delivers_the_event(signed_in, webhook):
    outbox_id = callback()
    webhook.status = 503
    csrf = signed_in.csrf("/staff/handoffs")
    failed = signed_in.post(f"/staff/handoffs/{outbox_id}/retry", {"csrf": csrf})
    assert failed.headers["Location"].endswith("outcome=failed")
    row = outbox_row(outbox_id)
    assert row.status == "pending" and row.attempts == 1 and row.last_error == "HTTP 503"
    assert "failed again" in signed_in.get(failed.headers["Location"]).text
    webhook.status = 200
    done = signed_in.post(f"/staff/handoffs/{outbox_id}/retry", {"csrf": csrf})
    assert done.headers["Location"].endswith("outcome=delivered")
    row = outbox_row(outbox_id)
    assert row.status == "delivered" and row.attempts == 2 and len(webhook.received) == 2
    assert "All delivered." in signed_in.get("/staff/handoffs").text
    assert signed_in.post(f"/staff/handoffs/{outbox_id}/retry", {"csrf": csrf}).status == 404


def test_the_api_retries_a_hand_off(signed_in, webhook):
    outbox_id = callback()
    auth = basic("alice", PASSWORD)
    answer = signed_in.post(f"/staff/api/handoffs/{outbox_id}/retry", headers=auth, cookies=False)
    assert answer.status == 200 and answer.json()["delivered"] is True
    assert utc(outbox_row(outbox_id).delivered_at) is not None
    missing = signed_in.post("/staff/api/handoffs/424242/retry", headers=auth, cookies=False)
    assert missing.status == 404 and "error" in missing.json()


def seed_conversation() -> None:
    tracker_events(
        [
            {"sender": "web-abc/1", "type": "user", "at": T0, "text": "my back hurts",
             "intent": "describe_symptoms"},
            {"sender": "web-abc/1", "type": "bot", "at": T0, "text": "Sorry to hear that."},
            {"sender": "web-abc/1", "type": "user", "at": T0, "text": "blorp",
             "intent": "nlu_fallback"},
        ]
    )  # fmt: skip


def test_reading_a_transcript_is_audited(signed_in):
    seed_conversation()
    found = signed_in.get("/staff/conversations?q=BACK+HURTS")
    assert found.status == 200 and 'href="/staff/conversations/web-abc%2F1"' in found.text
    page = signed_in.get("/staff/conversations/web-abc%2F1")
    assert page.status == 200
    assert "my back hurts" in page.text and "Sorry to hear that." in page.text
    api = signed_in.get("/staff/api/conversations/web-abc%2F1")
    assert [m["text"] for m in api.json()["messages"]][:2] == [
        "my back hurts",
        "Sorry to hear that.",
    ]
    assert audited() == [
        ("alice", "conversation search 'BACK HURTS'"),
        ("alice", "transcript web-abc/1"),
        ("alice", "transcript web-abc/1 (API)"),
    ]


def test_messages_not_understood_link_to_their_transcript(signed_in):
    seed_conversation()
    page = signed_in.get("/staff/not-understood")
    assert "blorp" in page.text and "/staff/conversations/web-abc%2F1" in page.text
    assert signed_in.get("/staff/api/not-understood").json()["messages"][0]["text"] == "blorp"
    assert audited()[-2:] == [
        ("alice", "not-understood messages"),
        ("alice", "not-understood messages (API)"),
    ]


def test_red_flags_show_the_signs_by_name(signed_in):
    red_flag(T0, ["saddle_numbness"])
    page = signed_in.get("/staff/red-flags")
    assert "Numbness in the saddle area" in page.text and "level-emergency" in page.text
    assert signed_in.get("/staff/api/red-flags").json()["red_flags"][0]["flags"] == [
        "saddle_numbness"
    ]


def test_the_weekly_report_has_accessible_charts_and_tables(signed_in):
    seed_conversation()
    page = signed_in.get("/staff/report?week=2026-11-02")
    assert page.status == 200
    assert page.text.count('role="img"') == 4 and "<desc" in page.text
    assert "Mon 02 Nov 2026 to Sun 08 Nov 2026" in page.text
    assert '<th scope="col">Share not understood</th>' in page.text
    assert (
        signed_in.get("/staff/api/report?week=2026-11-02").json()["totals"]["not_understood"] == 1
    )
    assert signed_in.get("/staff/report?week=yesterday").status == 400
    assert signed_in.get("/staff/api/report?week=2026-02-30").status == 400


def test_the_audit_log_page_lists_views(signed_in):
    book()
    signed_in.get("/staff/bookings")
    page = signed_in.get("/staff/audit?user=alice")
    assert "bookings list" in page.text and "127.0.0.1" in page.text
    assert "No views recorded." in signed_in.get("/staff/audit?user=bob").text


def test_bad_ids_and_paths_are_404(signed_in):
    for path in (
        "/staff/conversations/nobody",
        "/staff/api/conversations/nobody",
        "/staff/no-such-page",
        "/staff/api/no-such-thing",
        "/staff/callbacks/abc/done",
    ):
        assert signed_in.get(path).status == 404, path
    assert signed_in.get("/staff/callbacks/1/done").status == 405
    csrf = signed_in.csrf()
    assert (
        signed_in.post("/staff/callbacks/99999999999999999999/done", {"csrf": csrf}).status == 404
    )


def test_a_broken_database_is_503_without_details(signed_in, console_env, monkeypatch):
    broken = console_env / "not-a-database"
    broken.mkdir()
    monkeypatch.setenv("CLINIC_DB_PATH", str(broken))
    page = signed_in.get("/staff/bookings")
    assert page.status == 503 and "Traceback" not in page.text and "sqlite" not in page.text
    assert "The records are unavailable right now" in page.text
    api = signed_in.get("/staff/api/bookings", headers=basic("alice", PASSWORD), cookies=False)
    assert api.status == 503 and api.json() == {"error": "The records are unavailable right now"}


def test_pages_meet_the_accessibility_basics(signed_in):
    book()
    callback()
    seed_conversation()
    for path in (
        "/staff/",
        "/staff/bookings",
        "/staff/callbacks",
        "/staff/handoffs",
        "/staff/conversations",
        "/staff/conversations/web-abc%2F1",
        "/staff/not-understood",
        "/staff/report",
        "/staff/audit",
    ):
        text = signed_in.get(path).text
        assert text.startswith('<!doctype html><html lang="en">'), path
        assert re.search(r"<title>[^<]+ · Staff console · ", text), path
        assert '<a class="skip" href="#main">' in text and '<main id="main"' in text, path
        assert "<nav aria-label=" in text and "<h1>" in text, path
        assert 'aria-current="page"' in text, path
        assert "<script" not in text, path
        for field in re.findall(r'<input id="([^"]+)"', text):
            assert f'<label for="{field}">' in text, (path, field)
        if "<table>" in text:
            assert "<caption>" in text and '<th scope="col">' in text, path
    login = signed_in.get("/staff/login", cookies=False).text
    assert '<label for="username">' in login and '<label for="password">' in login
