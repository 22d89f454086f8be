"""A calendar file for every booking (iCalendar, RFC 5545), built with the `icalendar` package.

The booking confirmation links to `/calendar/<reference>-<token>.ics` on the clinic page's
web server (scripts/web.py). The token is a keyed hash of the reference (HMAC-SHA256 with the
key that seals contact details, sealed.py), so a link cannot be guessed from a reference and
opens one booking only. The file holds no name, phone or email: the clinic's name and address,
the practitioner, the time in the clinic's time zone (with its VTIMEZONE) and the reference.
It always shows the booking as it is now: a move changes the time and a cancellation makes
it CANCELLED, each with a higher SEQUENCE (the booking's revision), so a calendar that
imports the file again updates the event it made (same UID).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
import zoneinfo
from urllib.parse import urlsplit

from icalendar import Calendar, Event

from actions.records.bookings import Booking, booking_by_reference
from actions.records.sealed import data_key
from clinic.knowledge import knowledge

#: Where the clinic page is served for patients (the links' origin); `make run`: port 8080.
PUBLIC_URL_ENV = "CLINIC_PUBLIC_URL"
DEFAULT_PUBLIC_URL = "http://localhost:8080"
PATH_RE = re.compile(r"^/calendar/(?P<reference>BK-[A-Z0-9]{6})-(?P<token>[0-9a-f]{32})\.ics$")


def calendar_token(reference: str) -> str:
    digest = hmac.new(data_key(), b"calendar:" + reference.encode("ascii"), hashlib.sha256)
    return digest.hexdigest()[:32]


def calendar_path(reference: str) -> str:
    return f"/calendar/{reference}-{calendar_token(reference)}.ics"


def calendar_url(reference: str) -> str:
    base = os.environ.get(PUBLIC_URL_ENV) or DEFAULT_PUBLIC_URL
    return base.rstrip("/") + calendar_path(reference)


def booking_for_path(path: str) -> Booking | None:
    """The booking a calendar link names, or None (unknown, malformed or a wrong token)."""
    match = PATH_RE.match(path)
    if not match:
        return None
    expected = calendar_token(match["reference"])
    if not hmac.compare_digest(expected, match["token"]):
        return None
    return booking_by_reference(match["reference"])


def _uid_domain() -> str:
    host = urlsplit(knowledge().clinic.website).hostname or "clinic.invalid"
    return host.removeprefix("www.")


def calendar_file(booking: Booking, now: dt.datetime | None = None) -> bytes:
    """The booking as an iCalendar file."""
    clinic = knowledge().clinic
    tz = zoneinfo.ZoneInfo(clinic.timezone)
    cal = Calendar()
    cal.add("prodid", f"-//{clinic.name}//Spine clinic assistant//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{booking.reference}@{_uid_domain()}")
    event.add("dtstamp", now or dt.datetime.now(dt.timezone.utc))
    event.add("sequence", booking.revision)
    event.add("status", "CANCELLED" if booking.status == "cancelled" else "CONFIRMED")
    event.add("dtstart", booking.starts_at.astimezone(tz))
    event.add("dtend", booking.ends_at.astimezone(tz))
    event.add("summary", f"Appointment at {clinic.name}")
    event.add("location", f"{clinic.name}, {clinic.address}")
    event.add(
        "description",
        f"With {booking.practitioner}. Reference {booking.reference}. "
        f"To cancel or move it, tell the assistant or call {clinic.phone}.",
    )
    event.add("url", clinic.website)
    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
