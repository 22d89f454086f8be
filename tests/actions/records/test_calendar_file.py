"""The calendar file of a booking (actions/records/calendar_file.py), read back with the
`icalendar` package; its unguessable link; and the clinic page's web server serving it.
On SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import urllib.error
import urllib.request
import zoneinfo

import pytest
from icalendar import Calendar

from actions.records.bookings import cancel_booking, reschedule_booking
from actions.records.calendar_file import (
    booking_for_path,
    calendar_file,
    calendar_path,
    calendar_url,
)
from tests.actions.records.samples import EMAIL, NAME, PHONE, book, future_slots
from tests.helpers import ROOT, free_port, wait_for_http


def event_of(data: bytes):
    cal = Calendar.from_ical(data)
    [event] = cal.walk("VEVENT")
    return cal, event


def test_the_file_is_valid_icalendar_with_the_clinic_and_its_time_zone(db_url, kb):
    slot = future_slots()[0]
    booking = book(slot)
    data = calendar_file(booking)
    cal, event = event_of(data)
    assert str(cal["version"]) == "2.0" and str(cal["method"]) == "PUBLISH"
    assert str(event["uid"]) == f"{booking.reference}@example.org"
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start == slot.start and end == slot.end
    assert start.tzinfo.key == kb.clinic.timezone == zoneinfo.ZoneInfo(kb.clinic.timezone).key
    assert [str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")] == [kb.clinic.timezone]
    assert kb.clinic.address in str(event["location"])
    assert str(event["status"]) == "CONFIRMED" and int(event["sequence"]) == 0
    assert booking.reference in str(event["description"])
    for private in (NAME, "O'Brien", PHONE, EMAIL):
        assert private.encode() not in data  # the file names no one


def test_a_move_and_a_cancellation_update_the_same_event(db_url):
    first, second = future_slots()[0], future_slots()[3]
    booking = book(first)
    moved = reschedule_booking(booking.reference, PHONE, second, conversation_id="c")
    _, event = event_of(calendar_file(moved))
    assert event.decoded("dtstart") == second.start and int(event["sequence"]) == 1
    cancelled = cancel_booking(booking.reference, EMAIL, conversation_id="c")
    _, event = event_of(calendar_file(cancelled))
    assert str(event["status"]) == "CANCELLED" and int(event["sequence"]) == 2
    assert str(event["uid"]).startswith(booking.reference)


def test_only_the_right_token_opens_a_booking(db_url):
    one, other = book(future_slots()[0]), book(future_slots()[1])
    path = calendar_path(one.reference)
    assert booking_for_path(path).reference == one.reference
    assert calendar_url(one.reference).endswith(path)
    token = path.rsplit("-", 1)[1].removesuffix(".ics")
    forged = [
        f"/calendar/{other.reference}-{token}.ics",  # another booking, this one's token
        path.replace(token, "0" * 32),
        f"/calendar/{one.reference}.ics",
        "/calendar/../clinic.db",
    ]
    assert all(booking_for_path(p) is None for p in forged)


@pytest.fixture
def web_server(db_url):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "scripts/web.py", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", proc, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_clinic_page_server_serves_the_file_and_refuses_a_wrong_link(web_server):
    booking = book(future_slots()[0])
    path = calendar_path(booking.reference)
    with urllib.request.urlopen(web_server + path, timeout=10) as response:
        assert response.headers["Content-Type"].startswith("text/calendar")
        assert booking.reference in response.headers["Content-Disposition"]
        _, event = event_of(response.read())
    assert str(event["uid"]).startswith(booking.reference)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(web_server + path.replace(path[-8:-4], "0000"), timeout=10)
    assert refused.value.code == 404
