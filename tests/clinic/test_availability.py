"""Appointment slots (clinic/availability.py): hours, notice, horizon, DST, nearest free."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from actions.records.bookings import booked_slots
from clinic import availability
from clinic.availability import Slot, candidate_slots, clinic_now
from clinic.knowledge import knowledge


def free_slots(*args, **kwargs):
    """free_slots with the bookings held in the test's database."""
    return availability.free_slots(*args, taken=booked_slots, **kwargs)


def nearest_free_slots(*args, **kwargs):
    """nearest_free_slots with the bookings held in the test's database."""
    return availability.nearest_free_slots(*args, taken=booked_slots, **kwargs)


TZ = ZoneInfo("America/Chicago")
#: Monday 23 November 2026, 07:00 in Chicago: every test's "now", whatever the real date.
NOW = dt.datetime(2026, 11, 23, 7, 0, tzinfo=TZ)
ELLIS, CHEN = "Dr. Jordan Ellis, DC", "Dr. Maya Chen, DC"


def at(day: int, hour: int, minute: int = 0, month: int = 11, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


def clinic_with(**booking: object):
    """The shipped clinic with some booking settings changed."""
    clinic = knowledge().clinic
    return clinic.copy(update={"booking": clinic.booking.copy(update=booking)})


def clinic_with_hours(**hours: list[str]):
    clinic = knowledge().clinic
    return clinic.copy(update={"hours": clinic.hours.copy(update=hours)})


def day_slots(day: dt.datetime, now: dt.datetime = NOW, clinic=None) -> list[Slot]:
    return candidate_slots(day, day + dt.timedelta(days=1), now=now, clinic=clinic)


def starts(slots: list[Slot]) -> list[str]:
    return [f"{s.start:%H:%M}" for s in slots]


def hold(*slots: Slot) -> None:
    """Active bookings for `slots`, written directly (bypassing "now"-relative checks)."""
    from sqlalchemy import insert

    from actions.records import database

    stamp = dt.datetime.now(dt.timezone.utc)
    rows = [
        {
            "reference": f"BK-T{i:05d}",
            "status": "booked",
            "active": 1,
            "starts_at": database.utc(slot.start),
            "practitioner": slot.practitioner,
            "patient_name": "Test Patient",
            "phone": "+15550100000",
            "email": None,
            "patient_type": "new",
            "reason": "test",
            "intake_summary": "test",
            "triage_level": "routine",
            "conversation_id": "test",
            "created_at": stamp,
            "updated_at": stamp,
        }
        for i, slot in enumerate(slots)
    ]
    with database.engine().begin() as conn:
        conn.execute(insert(database.bookings), rows)


@pytest.fixture
def sqlite_db(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'clinic.db'}")


def test_slots_only_inside_opening_hours_and_fit_the_range():
    tuesday = day_slots(at(24, 0))
    assert starts(tuesday[::2]) == [
        *(f"{h:02d}:{m:02d}" for h in range(8, 12) for m in (0, 30)),
        *(f"{h:02d}:{m:02d}" for h in range(13, 18) for m in (0, 30)),
    ]
    assert starts(tuesday)[-1] == "17:30"  # 17:30-18:00 fits 13:00-18:00; 18:00 does not
    assert starts(day_slots(at(27, 0)))[-1] == "16:30"  # Friday closes at 17:00
    assert starts(day_slots(at(28, 0)))[::2] == [
        "09:00",
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]
    assert all(s.end - s.start == dt.timedelta(minutes=30) for s in tuesday)


def test_each_start_offers_every_practitioner_in_clinic_order():
    tuesday = day_slots(at(24, 0))
    assert [s.practitioner for s in tuesday[:4]] == [ELLIS, CHEN, ELLIS, CHEN]
    assert tuesday == sorted(tuesday, key=lambda s: (s.start, s.practitioner != ELLIS))


def test_no_slots_on_sunday_or_closed_dates():
    assert day_slots(at(29, 0)) == []  # Sunday
    clinic = clinic_with(closed_dates=[dt.date(2026, 11, 26)])
    assert day_slots(at(26, 0), clinic=clinic) == []
    assert day_slots(at(27, 0), clinic=clinic)
    # The shipped closed date, seen from a week before it:
    assert day_slots(at(25, 0, month=12), now=at(18, 7, month=12)) == []


def test_no_slots_in_the_past_or_before_the_minimum_notice():
    now = at(24, 9, 10)  # Tuesday 09:10; two hours' notice -> 11:10
    slots = candidate_slots(at(23, 0), at(25, 0), now=now)
    assert starts(slots)[0] == "11:30"
    assert all(s.start >= now + dt.timedelta(hours=2) for s in slots)


def test_no_slots_beyond_the_horizon():
    slots = candidate_slots(NOW, NOW + dt.timedelta(days=60), now=NOW)
    last_day = NOW.date() + dt.timedelta(days=28)
    assert max(s.start.date() for s in slots) == last_day  # Monday 21 December
    assert candidate_slots(at(22, 0, month=12), at(24, 0, month=12), now=NOW) == []


def test_daylight_saving_change_week_keeps_the_wall_clock():
    now = at(26, 7, month=10)  # Monday before the clocks go back (Sunday 1 November 2026)
    friday, monday = day_slots(at(30, 0, month=10), now), day_slots(at(2, 0), now)
    assert starts(friday)[0] == starts(monday)[0] == "08:00"
    assert friday[0].start.utcoffset() == dt.timedelta(hours=-5)  # CDT
    assert monday[0].start.utcoffset() == dt.timedelta(hours=-6)  # CST
    assert friday[0].start.astimezone(dt.timezone.utc).hour == 13
    assert monday[0].start.astimezone(dt.timezone.utc).hour == 14


def test_daylight_saving_night_hours_skip_missing_and_repeat_nothing():
    clinic = clinic_with_hours(sunday=["00:00-04:00"])
    autumn = day_slots(at(1, 0), at(26, 7, month=10), clinic)[::2]
    assert starts(autumn) == [
        "00:00",
        "00:30",
        "01:00",
        "01:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
    ]
    spring = day_slots(at(14, 0, month=3, year=2027), at(8, 7, month=3, year=2027), clinic)[::2]
    assert starts(spring) == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30"]


def test_naive_times_are_clinic_local_time():
    naive = dt.datetime(2026, 11, 24, 10, 0)
    assert candidate_slots(naive, naive + dt.timedelta(minutes=1), now=NOW)[0].start == at(24, 10)


def test_clinic_now_is_aware_in_the_clinic_zone():
    now = clinic_now()
    assert now.tzinfo is not None and str(now.tzinfo) == "America/Chicago"


def test_key_round_trip_and_label():
    slot = Slot(at(26, 10), CHEN)
    assert slot.key() == "2026-11-26T10:00|1"
    assert Slot.from_key(slot.key()) == slot
    assert Slot.from_key(slot.key()).start.tzinfo is not None
    assert slot.label() == "Thu 26 Nov, 10:00 with Dr. Maya Chen, DC"
    for slot in day_slots(at(24, 0)):
        assert Slot.from_key(slot.key()) == slot


@pytest.mark.parametrize(
    "key",
    [
        "2026-11-26T12:00|0",  # lunch break
        "2026-11-26T18:00|0",  # after closing
        "2026-11-26T17:45|0",  # not on the half-hour grid
        "2026-11-29T10:00|0",  # Sunday
        "2026-12-25T10:00|0",  # closed date
        "2026-11-26T10:00|2",  # no third practitioner
        "2026-11-26 10:00|0",
        "2026-02-30T10:00|0",
        "garbage",
        "",
    ],
)
def test_from_key_rejects_what_is_not_a_slot(key):
    assert Slot.from_key(key) is None


def test_nearest_orders_by_closeness_to_the_anchor(sqlite_db):
    found = nearest_free_slots(at(24, 10), at(24, 11), anchor=at(24, 10, 30), now=NOW)
    assert [s.start for s in found] == [at(24, 10, 30), at(24, 10), at(24, 11)]
    assert all(s.practitioner == ELLIS for s in found)  # first free practitioner


def test_nearest_offers_one_slot_per_start_time(sqlite_db):
    found = nearest_free_slots(at(24, 10), at(24, 12), limit=10, now=NOW)
    assert len({s.start for s in found}) == len(found) == 10
    assert [s.start for s in found[:4]] == [at(24, 10), at(24, 10, 30), at(24, 11), at(24, 11, 30)]
    assert all(s.practitioner == ELLIS for s in found)


def test_nearest_takes_the_next_practitioner_and_skips_full_times(sqlite_db):
    hold(Slot(at(24, 10), ELLIS), Slot(at(24, 10, 30), ELLIS), Slot(at(24, 10, 30), CHEN))
    found = nearest_free_slots(at(24, 10), at(24, 11), now=NOW)
    assert found == [Slot(at(24, 10), CHEN), Slot(at(24, 11), ELLIS), Slot(at(24, 9, 30), ELLIS)]


def test_nearest_falls_back_outside_the_window(sqlite_db):
    hold(Slot(at(24, 11, 30), ELLIS), Slot(at(24, 11, 30), CHEN))
    found = nearest_free_slots(at(24, 11, 30), at(24, 11, 30), now=NOW)
    assert [s.start for s in found] == [at(24, 11), at(24, 10, 30), at(24, 10)]  # 13:00 ties


def test_nearest_prefers_the_same_time_on_other_days(sqlite_db):
    found = nearest_free_slots(at(29, 10), at(29, 12), now=NOW)  # Sunday: closed
    assert [s.start for s in found] == [at(28, 10), at(30, 10), at(28, 9, 30)]


def test_nearest_never_offers_the_past_or_excluded_slots(sqlite_db):
    now = at(24, 9, 10)
    taken = Slot(at(24, 11, 30), ELLIS)
    found = nearest_free_slots(at(23, 8), at(23, 12), now=now, limit=5, exclude=[taken])
    assert len(found) == 5
    assert taken not in found
    assert all(s.start >= now + dt.timedelta(hours=2) for s in found)


def test_free_slots_exclude_active_bookings(sqlite_db):
    hold(Slot(at(24, 8), ELLIS))
    free = free_slots(at(24, 8), at(24, 9), now=NOW)
    assert free == [Slot(at(24, 8), CHEN), Slot(at(24, 8, 30), ELLIS), Slot(at(24, 8, 30), CHEN)]
