"""The weekly report (console/report.py) on a seeded database, and its charts."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from clinic.availability import clinic_tz
from console import charts, report
from tests.console.seed import booking_row, red_flag, tracker_events

WEEK = dt.date(2026, 11, 2)  # a Monday


def local(day: int, hour: int) -> dt.datetime:
    """`hour` o'clock on the week's `day` (0-6), clinic time."""
    return dt.datetime.combine(WEEK + dt.timedelta(days=day), dt.time(hour), clinic_tz())


def seed() -> None:
    rows = []
    for sender, day, intents in (
        ("a", 0, ["greet", "ask_causes", "nlu_fallback"]),
        ("b", 0, ["out_of_scope"]),
        ("a", 1, ["request_appointment"]),  # the same conversation, next day
        ("c", 6, ["faq"]),
        ("late", 7, ["nlu_fallback"]),  # the day after the week
        ("early", -1, ["greet"]),  # the day before
    ):
        for i, intent in enumerate(intents):
            at = local(day, 10) + dt.timedelta(minutes=i)
            rows.append(
                {"sender": sender, "type": "user", "at": at, "text": "hi", "intent": intent}
            )
            rows.append({"sender": sender, "type": "bot", "at": at, "text": "hello"})
    tracker_events(rows)
    for n, day in enumerate((0, 2, 2, 9)):
        booking_row(f"BK-TEST{n:02d}", local(day, 11), local(day + 3, 9 + n))
    red_flag(local(1, 8), ["saddle_numbness", "bladder_bowel"])
    red_flag(local(3, 8), ["saddle_numbness"])
    red_flag(local(8, 8), ["fever"])  # next week


def test_the_weeks_figures():
    seed()
    week = report.weekly(WEEK)
    assert week.days[0] == WEEK and week.end == WEEK + dt.timedelta(days=6)
    assert week.conversations == [2, 1, 0, 0, 0, 0, 1]
    assert week.total_conversations == 3
    assert week.user_messages == [4, 1, 0, 0, 0, 0, 1]
    assert week.not_understood == [2, 0, 0, 0, 0, 0, 0]
    assert week.share(0) == 0.5 and week.share(2) is None
    assert week.share() == pytest.approx(2 / 6)
    assert week.bookings == [1, 0, 2, 0, 0, 0, 0]
    assert week.red_flags == {"saddle_numbness": 2, "bladder_bowel": 1}
    assert week.red_flag_events == 2
    data = week.as_dict()
    assert data["week_start"] == "2026-11-02" and data["totals"]["bookings_made"] == 3
    assert data["days"][0]["not_understood_share"] == 0.5


def test_an_empty_week_has_zeros():
    week = report.weekly(WEEK)
    assert week.conversations == [0] * 7 and week.red_flags == {} and week.share() is None


def test_the_week_parameter():
    assert report.parse_week("2026-11-02") == WEEK
    assert report.parse_week(None) == report.default_start()
    for bad in ("02/11/2026", "2026-13-01", "x"):
        with pytest.raises(ValueError):
            report.parse_week(bad)


def test_charts_are_named_described_images_with_escaped_text():
    svg = charts.columns("c1", "Per day <b>", ["Mon", "Tue"], [3, 0])
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Per day &lt;b&gt;</title>' in svg
    assert '<desc id="c1-desc">Mon: 3; Tue: 0</desc>' in svg
    assert len(re.findall(r"<rect ", svg)) == 2
    empty = charts.rows("c2", "Red flags by kind", [])
    assert "None this week" in empty and '<desc id="c2-desc">none</desc>' in empty
