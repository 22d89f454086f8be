"""Appointment slots: which times the clinic can offer, computed from knowledge/clinic.yml.

Slots are generated on the clinic's wall clock (opening hours are local times) and turned
into aware datetimes with `zoneinfo`, so a daylight-saving change moves the UTC instant, not
the time the patient is offered. Everything here is pure: `free_slots` and
`nearest_free_slots` subtract the slots that a `taken` function reports (the action server
passes the database's, actions/records/bookings.py), so this module knows no storage.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from clinic.knowledge import WEEKDAYS, Clinic, knowledge

#: The slots held between two instants (active bookings), for subtracting from the offer.
TakenSlots = Callable[[dt.datetime, dt.datetime], set["Slot"]]
_KEY = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d)\|(\d{1,3})")


def _clinic(clinic: Clinic | None) -> Clinic:
    return clinic if clinic is not None else knowledge().clinic


def clinic_tz(clinic: Clinic | None = None) -> ZoneInfo:
    return ZoneInfo(_clinic(clinic).timezone)


def clinic_now(clinic: Clinic | None = None) -> dt.datetime:
    """The current time on the clinic's wall clock (aware)."""
    return dt.datetime.now(clinic_tz(clinic))


def _local(value: dt.datetime, clinic: Clinic) -> dt.datetime:
    """`value` in the clinic's zone; a naive value is taken to be clinic local time."""
    tz = ZoneInfo(clinic.timezone)
    return value.replace(tzinfo=tz) if value.tzinfo is None else value.astimezone(tz)


@dataclass(frozen=True, order=True)
class Slot:
    """One appointment: a start time (aware, clinic zone) with one practitioner."""

    start: dt.datetime
    practitioner: str

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(minutes=knowledge().clinic.booking.slot_minutes)

    def key(self, clinic: Clinic | None = None) -> str:
        """Stable text id for button payloads: local wall-clock time and practitioner index."""
        clinic = _clinic(clinic)
        index = clinic.booking.practitioners.index(self.practitioner)
        return f"{_local(self.start, clinic):%Y-%m-%dT%H:%M}|{index}"

    @classmethod
    def from_key(cls, key: str, clinic: Clinic | None = None) -> Slot | None:
        """The slot a payload names, or None if malformed or not a slot in opening hours.

        Time-relative rules (notice, horizon) are left to booking, which reports them."""
        clinic = _clinic(clinic)
        match = _KEY.fullmatch((key or "").strip())
        if not match:
            return None
        try:
            naive = dt.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M")
            practitioner = clinic.booking.practitioners[int(match.group(2))]
        except (ValueError, IndexError):
            return None
        slot = next(
            (s for s in _day_slots(naive.date(), clinic) if s.start.time() == naive.time()), None
        )
        return cls(slot.start, practitioner) if slot else None

    def label(self, clinic: Clinic | None = None) -> str:
        """Chat-friendly: "Thu 26 Nov, 10:00 with Dr. Maya Chen, DC"."""
        start = _local(self.start, _clinic(clinic))
        return f"{start:%a} {start.day} {start:%b}, {start:%H:%M} with {self.practitioner}"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _wall_clock(day: dt.date, minutes: int, tz: ZoneInfo) -> dt.datetime | None:
    """`day` at `minutes` past midnight in `tz`; None when that time does not exist (DST gap).

    An ambiguous time (the repeated hour in autumn) is taken once, at its first occurrence."""
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minutes)
    aware = naive.replace(tzinfo=tz, fold=0)
    round_trip = aware.astimezone(dt.timezone.utc).astimezone(tz).replace(tzinfo=None)
    return aware if round_trip == naive else None


def _day_slots(day: dt.date, clinic: Clinic) -> Iterator[Slot]:
    """Every slot of one local day, ignoring notice and horizon: start, then practitioner."""
    if day in clinic.booking.closed_dates:
        return
    tz, step = ZoneInfo(clinic.timezone), clinic.booking.slot_minutes
    for span in clinic.hours.dict()[WEEKDAYS[day.weekday()]]:
        opens, closes = (_minutes(part) for part in span.split("-"))
        for minute in range(opens, closes - step + 1, step):  # the slot must fit the range
            start = _wall_clock(day, minute, tz)
            if start is None:  # skipped by a daylight-saving change
                continue
            for practitioner in clinic.booking.practitioners:
                yield Slot(start, practitioner)


def candidate_slots(
    start: dt.datetime,
    end: dt.datetime,
    *,
    now: dt.datetime | None = None,
    clinic: Clinic | None = None,
) -> list[Slot]:
    """Bookable slots starting in [start, end): within opening hours, not on a closed date,
    at least `min_notice_hours` from now and no later than today + `horizon_days`."""
    clinic = _clinic(clinic)
    now = _local(now, clinic) if now is not None else clinic_now(clinic)
    notice = dt.timedelta(hours=clinic.booking.min_notice_hours)
    soonest = _local(now.astimezone(dt.timezone.utc) + notice, clinic)  # real hours, not wall
    earliest = max(_local(start, clinic), soonest)
    end = _local(end, clinic)
    last_day = min(end.date(), now.date() + dt.timedelta(days=clinic.booking.horizon_days))
    slots: list[Slot] = []
    day = earliest.date()
    while day <= last_day:
        slots.extend(s for s in _day_slots(day, clinic) if earliest <= s.start < end)
        day += dt.timedelta(days=1)
    order = {name: i for i, name in enumerate(clinic.booking.practitioners)}
    slots.sort(key=lambda s: (s.start, order[s.practitioner]))
    return slots


def free_slots(
    start: dt.datetime,
    end: dt.datetime,
    *,
    taken: TakenSlots,
    now: dt.datetime | None = None,
    clinic: Clinic | None = None,
) -> list[Slot]:
    """`candidate_slots` minus the slots `taken` reports held in that time."""
    slots = candidate_slots(start, end, now=now, clinic=clinic)
    if not slots:
        return []
    held = taken(slots[0].start, slots[-1].start + dt.timedelta(seconds=1))
    return [s for s in slots if s not in held]


def _one_per_start(slots: Iterable[Slot]) -> list[Slot]:
    """The first practitioner per start time (slots come in clinic practitioner order)."""
    seen: set[dt.datetime] = set()
    result = []
    for slot in slots:
        if slot.start not in seen:
            seen.add(slot.start)
            result.append(slot)
    return result


def nearest_free_slots(
    earliest: dt.datetime,
    latest: dt.datetime,
    *,
    taken: TakenSlots,
    anchor: dt.datetime | None = None,
    limit: int = 3,
    now: dt.datetime | None = None,
    clinic: Clinic | None = None,
    exclude: Iterable[Slot] = (),
) -> list[Slot]:
    """Up to `limit` free slots, one per start time: those in [earliest, latest] closest to
    `anchor` (default `earliest`) first, then the closest outside the window, preferring the
    same time of day on other days when equally close."""
    clinic = _clinic(clinic)
    now = _local(now, clinic) if now is not None else clinic_now(clinic)
    earliest, latest = _local(earliest, clinic), _local(latest, clinic)
    anchor = _local(anchor, clinic) if anchor is not None else earliest
    horizon_end = dt.datetime.combine(
        now.date() + dt.timedelta(days=clinic.booking.horizon_days + 1), dt.time(), now.tzinfo
    )
    excluded = set(exclude)
    free = [
        s
        for s in free_slots(now, horizon_end, taken=taken, now=now, clinic=clinic)
        if s not in excluded
    ]
    starts = _one_per_start(free)
    inside = [s for s in starts if earliest <= s.start <= latest]
    inside.sort(key=lambda s: (abs(s.start - anchor), s.start))
    chosen = inside[:limit]
    if len(chosen) < limit:
        outside = [s for s in starts if not earliest <= s.start <= latest]
        outside.sort(key=lambda s: _outside_rank(s, earliest, latest, anchor))
        chosen += outside[: limit - len(chosen)]
    return chosen


def _outside_rank(
    slot: Slot, earliest: dt.datetime, latest: dt.datetime, anchor: dt.datetime
) -> tuple[int, float, dt.datetime]:
    """On the window's own day(s): minutes from the window. On other days: days away, then
    minutes from the anchor's time of day (Thursday 10:00 taken -> Friday 10:00 before 17:00)."""
    gap = earliest - slot.start if slot.start < earliest else slot.start - latest
    if slot.start.date() in (earliest.date(), latest.date()):
        return 0, gap.total_seconds() / 60, slot.start
    days = abs((slot.start.date() - anchor.date()).days)
    start, wish = slot.start, anchor
    time_of_day = abs((start.hour * 60 + start.minute) - (wish.hour * 60 + wish.minute))
    return days, time_of_day, slot.start
