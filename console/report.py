"""The weekly report: conversations, bookings made, red flags by kind and the share of
messages not understood, for seven days in the clinic's time zone.

Counts only, never what was said, so viewing it is not audited.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from actions.records.database import bookings, engine, triage_events, utc
from clinic.availability import clinic_now, clinic_tz
from console import tracker

DAYS = 7


@dataclass
class WeeklyReport:
    start: dt.date
    days: list[dt.date]
    conversations: list[int]
    user_messages: list[int]
    not_understood: list[int]
    bookings: list[int]
    red_flags: dict[str, int] = field(default_factory=dict)  # flag id -> events, most first
    red_flag_events: int = 0
    total_conversations: int = 0  # distinct over the week (one may span several days)

    @property
    def end(self) -> dt.date:
        return self.days[-1]

    def share(self, index: int | None = None) -> float | None:
        """Share of user messages not understood: one day's, or the week's (None: none)."""
        said = sum(self.user_messages) if index is None else self.user_messages[index]
        missed = sum(self.not_understood) if index is None else self.not_understood[index]
        return missed / said if said else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "week_start": self.start.isoformat(),
            "week_end": self.end.isoformat(),
            "days": [
                {
                    "date": day.isoformat(),
                    "conversations": self.conversations[i],
                    "user_messages": self.user_messages[i],
                    "not_understood": self.not_understood[i],
                    "not_understood_share": self.share(i),
                    "bookings_made": self.bookings[i],
                }
                for i, day in enumerate(self.days)
            ],
            "totals": {
                "conversations": self.total_conversations,
                "user_messages": sum(self.user_messages),
                "not_understood": sum(self.not_understood),
                "not_understood_share": self.share(),
                "bookings_made": sum(self.bookings),
                "red_flag_events": self.red_flag_events,
            },
            "red_flags_by_kind": self.red_flags,
        }


def default_start(today: dt.date | None = None) -> dt.date:
    """The first of the last seven days, today included."""
    return (today or clinic_now().date()) - dt.timedelta(days=DAYS - 1)


def parse_week(value: str | None) -> dt.date:
    """?week=YYYY-MM-DD: the week's first day; ValueError when it is not a date."""
    if not value:
        return default_start()
    return dt.date.fromisoformat(value.strip()[:10])


def _bounds(start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = clinic_tz()
    first = dt.datetime.combine(start, dt.time(), tz)
    last = dt.datetime.combine(start + dt.timedelta(days=DAYS), dt.time(), tz)
    return first.astimezone(dt.timezone.utc), last.astimezone(dt.timezone.utc)


def _day_index(moment: dt.datetime, start: dt.date) -> int | None:
    index = (utc(moment).astimezone(clinic_tz()).date() - start).days
    return index if 0 <= index < DAYS else None


def weekly(start: dt.date) -> WeeklyReport:
    """The figures for the seven days from `start` (clinic time)."""
    begin, end = _bounds(start)
    days = [start + dt.timedelta(days=i) for i in range(DAYS)]
    report = WeeklyReport(start, days, [0] * DAYS, [0] * DAYS, [0] * DAYS, [0] * DAYS)
    per_day: list[set[str]] = [set() for _ in range(DAYS)]
    senders: set[str] = set()
    for sender, timestamp, intent in tracker.user_messages(begin, end):
        index = _day_index(dt.datetime.fromtimestamp(timestamp, dt.timezone.utc), start)
        if index is None:
            continue
        per_day[index].add(sender)
        senders.add(sender)
        report.user_messages[index] += 1
        report.not_understood[index] += intent in tracker.NOT_UNDERSTOOD
    report.conversations = [len(s) for s in per_day]
    report.total_conversations = len(senders)
    made = select(bookings.c.created_at).where(
        bookings.c.created_at >= begin, bookings.c.created_at < end
    )
    flagged = select(triage_events.c.flags).where(
        triage_events.c.created_at >= begin, triage_events.c.created_at < end
    )
    kinds: Counter[str] = Counter()
    with engine().connect() as conn:
        for (created,) in conn.execute(made):
            index = _day_index(created, start)
            if index is not None:
                report.bookings[index] += 1
        for (flags,) in conn.execute(flagged):
            report.red_flag_events += 1
            kinds.update(f for f in flags.split(",") if f)
    report.red_flags = dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    return report
