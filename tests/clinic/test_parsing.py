"""Booking-form parsers: time preferences, contact details, names, patient type, references."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from clinic.parsing.booking_answers import REFERENCE_RE, parse_patient_type, parse_reference
from clinic.parsing.contact import (
    normalise_contact,
    normalise_email,
    normalise_name,
    normalise_phone,
)
from clinic.parsing.times import Preference, PreferenceProblem, parse_preference

TZ = "America/Chicago"
ZONE = ZoneInfo(TZ)
NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=ZONE)  # a Tuesday
HORIZON = NOW + dt.timedelta(days=28)


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=ZONE)


def dec(day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return at(day, hour, minute, month=12)


# phrase -> (earliest, latest, anchor); None anchor means "same as earliest".
CASES = {
    "next Tuesday afternoon": (dec(1, 12), dec(1, 17), None),
    "tomorrow at 10": (at(25), at(26), at(25, 10)),
    "tomorrow at 10am": (at(25), at(26), at(25, 10)),
    "10:30 on Friday": (at(27), at(28), at(27, 10, 30)),
    "any morning this week": (NOW, at(29, 12), None),
    "this week": (NOW, at(30), None),
    "next week": (at(30), dec(7), None),
    "Thursday": (at(26), at(27), None),
    "thursday afternoon": (at(26, 12), at(26, 17), None),
    "friday morning": (at(27, 8), at(27, 12), None),
    "saturday": (at(28), at(29), None),
    "the 3rd of December": (dec(3), dec(4), None),
    "December 3": (dec(3), dec(4), None),
    "12/3": (dec(3), dec(4), None),
    "the 3rd": (dec(3), dec(4), None),
    "in 2 days": (at(26), at(27), None),
    "2 days from now": (at(26), at(27), None),
    "today after 3pm": (at(24, 15), at(25), None),
    "after 3": (at(24, 15), at(25), None),
    "before noon": (NOW, at(24, 12), None),
    "evening": (at(24, 17), at(24, 21), None),
    "after work": (at(24, 17), at(24, 21), None),
    "tonight": (at(24, 17), at(24, 21), None),
    "between 2 and 4 tomorrow": (at(25, 14), at(25, 16), None),
    "as soon as possible": (NOW, HORIZON, None),
    "asap": (NOW, HORIZON, None),
    "earliest": (NOW, HORIZON, None),
    "any time": (NOW, HORIZON, None),
    "whenever": (NOW, HORIZON, None),
    "monday or tuesday": (at(30), dec(2), None),
    "tomorow": (at(25), at(26), None),
    "thursdy": (at(26), at(27), None),
    # Today's own weekday is today while time is left; "next X" is X of next week.
    "tuesday": (NOW, at(25), None),
    "next thursday": (dec(3), dec(4), None),
    "tuesday next week": (dec(1), dec(2), None),
    "this weekend": (at(28), at(30), None),
    "I could do next Tuesday afternoon if that works": (dec(1, 12), dec(1, 17), None),
}


@pytest.mark.parametrize("phrase", CASES)
def test_parse_preference_windows(phrase: str) -> None:
    earliest, latest, anchor = CASES[phrase]
    result = parse_preference(phrase, now=NOW, tz=TZ)
    assert isinstance(result, Preference), result
    assert (result.earliest, result.latest, result.anchor) == (
        earliest,
        latest,
        anchor or earliest,
    )
    assert result.earliest.tzinfo is not None and result.latest > result.earliest
    assert result.description


@pytest.mark.parametrize(
    ("phrase", "description"),
    [
        ("next Tuesday afternoon", "Tuesday 1 December, afternoon"),
        ("tomorrow at 10", "tomorrow (Wed 25 Nov) at 10:00"),
        ("any morning this week", "any morning this week"),
        ("asap", "as soon as possible"),
        ("monday or tuesday", "Monday 30 November or Tuesday 1 December"),
    ],
)
def test_descriptions(phrase: str, description: str) -> None:
    result = parse_preference(phrase, now=NOW, tz=TZ)
    assert isinstance(result, Preference)
    assert result.description == description


def test_any_morning_keeps_the_daily_hours() -> None:
    result = parse_preference("any morning", now=NOW, tz=TZ)
    assert isinstance(result, Preference)
    assert result.time_of_day == (dt.time(8), dt.time(12))
    assert result.earliest == NOW and result.latest == HORIZON


@pytest.mark.parametrize(
    ("phrase", "problem"),
    [
        ("yesterday", PreferenceProblem.past),
        ("last Monday", PreferenceProblem.past),
        ("today at 7am", PreferenceProblem.past),
        ("this morning before 8", PreferenceProblem.past),
        ("November 2 2026", PreferenceProblem.past),
        ("gibberish", PreferenceProblem.unclear),
        ("skip", PreferenceProblem.unclear),
        ("blue", PreferenceProblem.unclear),
        ("", PreferenceProblem.unclear),
        ("12345", PreferenceProblem.unclear),
        ("March 3", PreferenceProblem.too_far),
        ("in 2 months", PreferenceProblem.too_far),
    ],
)
def test_parse_preference_problems(phrase: str, problem: PreferenceProblem) -> None:
    assert parse_preference(phrase, now=NOW, tz=TZ) == problem


def test_horizon_is_an_argument() -> None:
    assert parse_preference("next week", now=NOW, tz=TZ, horizon_days=3) == "too_far"
    assert isinstance(parse_preference("next week", now=NOW, tz=TZ, horizon_days=7), Preference)


def test_weekday_today_rolls_over_once_its_window_is_gone() -> None:
    late = NOW.replace(hour=18)
    result = parse_preference("tuesday afternoon", now=late, tz=TZ)
    assert isinstance(result, Preference)
    assert result.earliest == dec(1, 12)


def test_now_in_another_zone_is_converted() -> None:
    utc_now = NOW.astimezone(dt.timezone.utc)
    result = parse_preference("tomorrow at 10", now=utc_now, tz=TZ)
    assert isinstance(result, Preference)
    assert result.anchor == at(25, 10) and result.anchor.utcoffset() == dt.timedelta(hours=-6)


def test_dst_spring_forward_day() -> None:
    """2027-03-14: clocks jump 02:00 -> 03:00 in Chicago; the day is 23 hours long."""
    now = dt.datetime(2027, 3, 12, 9, 0, tzinfo=ZONE)  # Friday before
    result = parse_preference("sunday", now=now, tz=TZ)
    assert isinstance(result, Preference)
    assert result.earliest == dt.datetime(2027, 3, 14, tzinfo=ZONE)
    assert result.earliest.utcoffset() == dt.timedelta(hours=-6)
    assert result.latest.utcoffset() == dt.timedelta(hours=-5)
    assert result.latest.astimezone(dt.timezone.utc) - result.earliest.astimezone(
        dt.timezone.utc
    ) == dt.timedelta(hours=23)
    morning = parse_preference("sunday at 10am", now=now, tz=TZ)
    assert isinstance(morning, Preference)
    assert morning.anchor.hour == 10 and morning.anchor.utcoffset() == dt.timedelta(hours=-5)


def test_default_timezone_comes_from_the_clinic() -> None:
    result = parse_preference("tomorrow", now=NOW)
    assert isinstance(result, Preference)
    assert str(result.earliest.tzinfo) == "America/Chicago"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(312) 555-0142", "+13125550142"),
        ("312.555.0142", "+13125550142"),
        ("312-555-0142", "+13125550142"),
        ("my number is 312 555 0142, thanks", "+13125550142"),
        ("+1 (212) 555-1234", "+12125551234"),
        ("+44 7911 123456", "+447911123456"),
        ("0044 7911 123456", "+447911123456"),
        ("12345", None),
        ("555-0100", None),
        ("+44 7700 900123", None),  # Ofcom's drama range: phonenumbers calls it invalid
        ("no phone", None),
        ("", None),
    ],
)
def test_normalise_phone(text: str, expected: str | None) -> None:
    assert normalise_phone(text) == expected


def test_normalise_phone_region() -> None:
    assert normalise_phone("07911 123456", region="GB") == "+447911123456"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jane.doe@example.com", "jane.doe@example.com"),
        ("it's Jane.Doe@Example.com", "jane.doe@example.com"),
        ("my email is jane+spine@mail.example.co.uk.", "jane+spine@mail.example.co.uk"),
        ("email: j_doe@sub.domain.org", "j_doe@sub.domain.org"),
        ("jane@", None),
        ("jane@@x.com", None),
        ("a b@c.com", None),
        ("jane@localhost", None),
        ("no email", None),
        ("", None),
    ],
)
def test_normalise_email(text: str, expected: str | None) -> None:
    assert normalise_email(text) == expected


def test_normalise_contact() -> None:
    assert normalise_contact("312 555 0142 or jane@example.com") == (
        "+13125550142",
        "jane@example.com",
    )
    assert normalise_contact("just email me: jane@example.com") == (None, "jane@example.com")
    assert normalise_contact("(312) 555-0142") == ("+13125550142", None)
    assert normalise_contact("nope") == (None, None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jane Doe", "Jane Doe"),
        ("my name is Jane Doe.", "Jane Doe"),
        ("I'm Zoë", "Zoë"),
        ("it's José Núñez", "José Núñez"),
        ("Łukasz Nowak", "Łukasz Nowak"),
        ("name: O'Brien", "O'Brien"),
        ("o'brien", "O'Brien"),
        ("Mary D’Angelo", "Mary D'Angelo"),  # curly apostrophe normalised to ASCII
        ("Anne-Marie Smith-Jones", "Anne-Marie Smith-Jones"),
        ("ANNE-MARIE", "Anne-Marie"),
        ("J. R. Smith", "J. R. Smith"),
        ("Pieter van der Berg", "Pieter van der Berg"),
        ("van der berg", "Van Der Berg"),
        ("McDonald", "McDonald"),
        ("12345", None),
        ("jane@x.com", None),
        ("yes", None),
        ("skip", None),
        ("Stop", None),
        ("", None),
        ("a", None),
        ("x" * 200, None),
        ("Jane 2", None),
        ("I'd rather not say", None),
        # a question asked at the name step is not a name
        ("how much does it cost", None),
        ("what's the weather tomorrow", None),
        ("Where do I park?", None),
        ("is it far", None),
        ("Will Smith", "Will Smith"),
        ("Can Yilmaz", "Can Yilmaz"),
        ("Do Van Minh", "Do Van Minh"),
    ],
)
def test_normalise_name(text: str, expected: str | None) -> None:
    assert normalise_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("first time", "new"),
        ("never been", "new"),
        ("I'm new", "new"),
        ("new patient", "new"),
        ("no, I haven't been before", "new"),
        ("yes I've been before", "returning"),
        ("returning", "returning"),
        ("existing patient", "returning"),
        ("been there last year", "returning"),
        ("not my first time", "returning"),
        ("yes", None),
        ("blue", None),
    ],
)
def test_parse_patient_type(text: str, expected: str | None) -> None:
    assert parse_patient_type(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("BK-7K2Q9M", "BK-7K2Q9M"),
        ("bk 7k2q9m", "BK-7K2Q9M"),
        ("my ref is BK7K2Q9M", "BK-7K2Q9M"),
        ("it's bk-7k2-q9m thanks", "BK-7K2Q9M"),
        ("BK-7K2Q9", None),  # too short
        ("BK-7K2Q9MX", None),  # too long
        ("BK-OI0123", None),  # O, I, 0 and 1 are not in the alphabet
        ("no idea", None),
    ],
)
def test_parse_reference(text: str, expected: str | None) -> None:
    assert parse_reference(text) == expected
    if expected:
        assert REFERENCE_RE.fullmatch(expected)


def test_an_email_inside_a_sentence_is_found():
    from clinic.parsing.contact import normalise_email

    assert normalise_email("you can reach me on Zoe.OBrien@Example.com") == "zoe.obrien@example.com"
