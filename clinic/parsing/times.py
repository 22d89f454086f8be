"""Time preferences: "Thursday afternoon", "tomorrow at 10", "next week" as a window.

The parser takes free text and returns a Preference or a PreferenceProblem, so the form can
re-ask with a specific hint instead of guessing. Everything that depends on the clock takes
an explicit `now`, which keeps tests exact.

 dateparser (1.2.0) converts explicit calendar dates ("December 3", "12/3",
"in 2 days"); a thin layer here handles what dateparser does not: parts of the day, ranges
("this week"), weekdays with "next", clock times and typos. Semantics chosen (and tested):

* A day is the whole calendar day, 00:00 to 00:00 the next day; `latest` is exclusive.
* Parts of the day: morning 08:00-12:00, afternoon 12:00-17:00, evening ("after work",
  "tonight") 17:00-21:00. "after 3" runs to the end of the day, "before noon" from its start.
* A clock time ("tomorrow at 10") is a wish, not a limit: it sets `anchor`, while the window
  stays the day (or the part of it named), so nearby slots the same day can still be offered.
  Hours 1-7 without am/pm mean the afternoon (13:00-19:00); 8-11 mean the morning.
* A weekday name ("Thursday", "this Thursday") is its next occurrence; today's own weekday
  means today while the asked part of today still lies ahead, otherwise the same day next
  week. "next Thursday" is always the Thursday of next calendar week (weeks start on
  Monday), so on Tuesday 24 Nov "next Thursday" is 3 Dec, not 26 Nov. Several weekdays
  ("monday or tuesday") are resolved in order, each on or after the previous, and become
  one span from the first to the last.
* A time of day with no date ("evening", "after 3") means the next day on which it still
  fits (today if possible); "any morning" means every morning up to the horizon.
* "asap", "earliest", "any time", "whenever" mean now until the horizon.
* "this week" runs to Sunday night, "next week" is Monday to Sunday of the next week.
* Any window that has ended, or any anchor before now, is `past`; a window starting after
  now + horizon_days is `too_far`; text with no recognisable date or time is `unclear`.

About 500 lines on purpose: the rules above share one set of regular expressions and one
pass over the text, and split across modules they would only be read together.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from zoneinfo import ZoneInfo

from clinic.knowledge import WEEKDAYS, Clinic, knowledge

__all__ = ["PARTS_OF_DAY", "Preference", "PreferenceProblem", "parse_preference"]


@dataclass(frozen=True)
class Preference:
    """A window the patient would like an appointment in.

    `time_of_day`, when set, narrows every day of the window to those hours ("any morning
    this week"); `earliest`/`latest` already respect it on the first and last day. An end
    of 23:59:59.999999 stands for midnight (24:00).
    """

    earliest: dt.datetime
    latest: dt.datetime
    anchor: dt.datetime
    description: str
    time_of_day: tuple[dt.time, dt.time] | None = None


class PreferenceProblem(str, Enum):
    """Why a time preference could not be used; the form re-asks with a matching hint."""

    unclear = "unclear"
    past = "past"
    too_far = "too_far"


_WEEKDAY_ABBREVIATIONS = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "weds": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
PARTS_OF_DAY = {
    "morning": (dt.time(8), dt.time(12)),
    "afternoon": (dt.time(12), dt.time(17)),
    "evening": (dt.time(17), dt.time(21)),
}
_MIDNIGHT = dt.time(0)
_END_OF_DAY = dt.time(23, 59, 59, 999999)  # stands for 24:00; windows end at next midnight

#: Words a fuzzy match may correct typos towards ("tomorow", "thursdy", "afternon").
_FUZZY_VOCABULARY = (*WEEKDAYS, "tomorrow", "today", "tonight", *PARTS_OF_DAY, "weekend")
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}

_ASAP_RE = re.compile(
    r"\b(as soon as (possible|you can)|asap|earliest|soonest|first (available|free|opening)|"
    r"next (available|free|opening)|any ?time|whenever|no preference|any day|any slot|"
    r"don'?t mind|doesn'?t matter|i'?m flexible|flexible)\b"
)
_PAST_RE = re.compile(r"\b(yesterday|last (week|month|" + "|".join(WEEKDAYS) + r")|ago)\b")
_TIME = r"(?:\d{1,2}(?:[:.]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?|noon|midday|midnight)"
_BETWEEN_RE = re.compile(rf"\b(?:between|from)\s+({_TIME})\s*(?:and|to|-|–)\s*({_TIME})")
_AFTER_RE = re.compile(rf"\b(?:after|from|not before|later than)\s+({_TIME})(?![\w/])")
_BEFORE_RE = re.compile(rf"\b(?:before|by|no later than|until|till)\s+({_TIME})(?![\w/])")
_AT_RE = re.compile(
    rf"(?:\b(?:at|@|around|about)\s*({_TIME})(?![\w/])"
    r"|\b(\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\d{1,2}:\d{2}|noon|midday)(?![\w/]))"
)
_PART_RE = re.compile(
    r"\b(?:(any|every|this|in the|tomorrow)\s+)?"
    r"(mornings?|afternoons?|evenings?|tonight|after work|after school|am|pm)\b"
)
_WEEK_RE = re.compile(
    r"\b(later this|this|next|the following|coming|following)\s+(week|weekend|month)\b"
    r"|\b(week after next|(?:the\s+)?weekend)\b"
)
_DAYWORD_RE = re.compile(r"\b(day after tomorrow|tomorrow|today|tonight)\b")
_WEEKDAY_RE = re.compile(
    r"\b(?:(next|this|coming|on)\s+)?("
    + "|".join(WEEKDAYS)
    + r"|"
    + "|".join(_WEEKDAY_ABBREVIATIONS)
    + r")\.?(?!\w)"
)
_MONTHS = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_EXPLICIT_DATE_RES = (
    re.compile(r"\b\d{4}-\d{1,2}-\d{1,2}\b"),
    re.compile(r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b"),
    re.compile(rf"\b(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}(?:,?\s+\d{{4}})?"),
    re.compile(rf"\b{_MONTHS}\s+(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?"),
    re.compile(r"\bin\s+(?:\d+|an?|one|two|three|four|five)\s+(?:days?|weeks?|months?)\b"),
)
_FROM_NOW_RE = re.compile(
    r"\b(\d+|an?|one|two|three|four|five)\s+(days?|weeks?)\s+(?:from (?:now|today)|later)\b"
)
_DAY_OF_MONTH_RE = re.compile(r"\b(?:on\s+)?the\s+(\d{1,2})(?:st|nd|rd|th)\b")


@dataclass
class _Parts:
    """What the patient said, before it is turned into a window."""

    days: list[dt.date] = field(default_factory=list)
    day_labels: list[str] = field(default_factory=list)
    span: tuple[dt.date, dt.date] | None = None  # [start, end) from "this week" etc.
    span_label: str = ""
    weekdays: list[tuple[str, int]] = field(default_factory=list)  # (qualifier, weekday)
    window: tuple[dt.time, dt.time] | None = None
    window_label: str = ""
    at: dt.time | None = None
    every: bool = False
    asap: bool = False
    past: bool = False


def parse_preference(
    text: str, *, now: dt.datetime, tz: str | None = None, horizon_days: int = 28
) -> Preference | PreferenceProblem:
    """Turn 'next Tuesday afternoon' into a window in the clinic's time zone."""
    zone = ZoneInfo(tz or _clinic().timezone)
    now = now.astimezone(zone)
    horizon = now + dt.timedelta(days=horizon_days)
    clean = _clean(text)
    if not clean:
        return PreferenceProblem.unclear
    parts = _extract(clean, now.date())
    if parts is None:
        return PreferenceProblem.unclear
    if parts.past:
        return PreferenceProblem.past
    result = _to_preference(parts, now, horizon, clean)
    if isinstance(result, PreferenceProblem):
        return result
    if result.earliest >= horizon:
        return PreferenceProblem.too_far
    return result


def _clinic() -> Clinic:
    return knowledge().clinic


def _clean(text: str) -> str:
    """Lower-case, straighten quotes, collapse spaces and fix typos in date words."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"[!?;\"]", " ", text)
    words = [_fix_typo(word) for word in text.split()]
    return " ".join(words).strip(" .,")


def _fix_typo(word: str) -> str:
    core = word.strip(".,")
    if len(core) < 5 or not core.isalpha() or core in _FUZZY_VOCABULARY:
        return word
    if core.endswith("s") and core[:-1] in _FUZZY_VOCABULARY:
        return word
    match = difflib.get_close_matches(core, _FUZZY_VOCABULARY, n=1, cutoff=0.8)
    return word.replace(core, match[0]) if match else word


def _extract(text: str, today: dt.date) -> _Parts | None:
    """Pick the date and time pieces out of the text; None if there are none."""
    parts = _Parts(past=bool(_PAST_RE.search(text)))
    rest = text
    for step in (_take_times, _take_part_of_day, _take_span, _take_dayword, _take_weekdays):
        rest = step(rest, parts, today)
    rest = _take_explicit_dates(rest, parts, today)
    parts.asap = bool(_ASAP_RE.search(rest))
    found = parts.days or parts.span or parts.weekdays or parts.window or parts.at or parts.asap
    if not found and not parts.past:
        return None
    return parts


def _take(pattern: re.Pattern[str], text: str, handle: Callable[[re.Match[str]], None]) -> str:
    """Call `handle` on each match of `pattern` and blank the match out of the text."""

    def replace(match: re.Match[str]) -> str:
        handle(match)
        return " "

    return pattern.sub(replace, text)


def _parse_time(raw: str) -> dt.time | None:
    """'10', '10am', '3 pm', '10:30', 'noon' -> time; bare 1-7 means pm (clinic hours)."""
    raw = raw.strip().replace(".m.", "m").replace("a.m", "am").replace("p.m", "pm")
    if raw in ("noon", "midday"):
        return dt.time(12)
    if raw == "midnight":
        return dt.time(0)
    match = re.fullmatch(r"(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm)?", raw)
    if not match:
        return None
    hour, minute, half = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if minute > 59 or hour > 23 or (half and not 1 <= hour <= 12):
        return None
    if half == "pm" and hour < 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    elif not half and 1 <= hour <= 7:
        hour += 12
    return dt.time(hour, minute)


def _hhmm(value: dt.time) -> str:
    return value.strftime("%H:%M")


def _take_times(text: str, parts: _Parts, today: dt.date) -> str:
    def between(match: re.Match[str]) -> None:
        first, second = match.group(1), match.group(2)
        half = re.search(r"(am|pm)", second)
        if half and not re.search(r"(am|pm)", first):
            first = f"{first}{half.group(1)}"
        start, end = _parse_time(first), _parse_time(second)
        if start and end and start < end:
            parts.window, parts.window_label = (start, end), f"{_hhmm(start)}–{_hhmm(end)}"

    def after(match: re.Match[str]) -> None:
        start = _parse_time(match.group(1))
        if start:
            parts.window, parts.window_label = (start, _END_OF_DAY), f"after {_hhmm(start)}"

    def before(match: re.Match[str]) -> None:
        end = _parse_time(match.group(1))
        if end and end > _MIDNIGHT:
            parts.window, parts.window_label = (_MIDNIGHT, end), f"before {_hhmm(end)}"

    def at(match: re.Match[str]) -> None:
        parts.at = _parse_time(match.group(1) or match.group(2))

    text = _take(_BETWEEN_RE, text, between)
    text = _take(_AFTER_RE, text.replace("after work", "evening"), after)
    text = _take(_BEFORE_RE, text, before)
    return _take(_AT_RE, text, at)


def _take_part_of_day(text: str, parts: _Parts, today: dt.date) -> str:
    def handle(match: re.Match[str]) -> None:
        qualifier, word = match.group(1), match.group(2)
        name = {"tonight": "evening", "after work": "evening", "after school": "evening"}.get(
            word, {"am": "morning", "pm": "afternoon"}.get(word, word.rstrip("s"))
        )
        if word == "tonight" or qualifier == "this":
            parts.days.append(today)
            parts.day_labels.append("today")
        elif qualifier == "tomorrow":
            parts.days.append(today + dt.timedelta(days=1))
            parts.day_labels.append("tomorrow")
        parts.every = parts.every or qualifier in ("any", "every") or word.endswith("s")
        start, end = PARTS_OF_DAY[name]
        if parts.window:  # "afternoon after 3": keep the overlap, else the explicit time
            start, end = max(start, parts.window[0]), min(end, parts.window[1])
            if start < end:
                parts.window = (start, end)
            return
        parts.window, parts.window_label = (start, end), name

    return _take(_PART_RE, text, handle)


def _take_span(text: str, parts: _Parts, today: dt.date) -> str:
    monday = today - dt.timedelta(days=today.weekday())

    def handle(match: re.Match[str]) -> None:
        qualifier, unit = match.group(1) or "", match.group(2) or ""
        whole = match.group(3) or ""
        if whole == "week after next":
            start = monday + dt.timedelta(days=14)
            parts.span, parts.span_label = (start, start + dt.timedelta(days=7)), whole
            return
        if "weekend" in (unit, whole.removeprefix("the ").strip()):
            offset = 7 if qualifier in ("next", "the following", "following") else 0
            saturday = monday + dt.timedelta(days=5 + offset)
            if offset == 0 and today.weekday() == 6:
                saturday = today
            label = "next weekend" if offset else "this weekend"
            parts.span, parts.span_label = (saturday, monday + dt.timedelta(days=7 + offset)), label
            return
        if unit == "month":
            first = today.replace(day=1)
            following = (first + dt.timedelta(days=32)).replace(day=1)
            if qualifier == "this":
                parts.span, parts.span_label = (today, following), "this month"
            else:
                after = (following + dt.timedelta(days=32)).replace(day=1)
                parts.span, parts.span_label = (following, after), "next month"
            return
        if qualifier in ("this", "coming"):
            parts.span, parts.span_label = (today, monday + dt.timedelta(days=7)), "this week"
        elif qualifier == "later this":
            start = today + dt.timedelta(days=1)
            parts.span, parts.span_label = (start, monday + dt.timedelta(days=7)), "later this week"
        else:
            start = monday + dt.timedelta(days=7)
            parts.span, parts.span_label = (start, start + dt.timedelta(days=7)), "next week"

    return _take(_WEEK_RE, text, handle)


def _take_dayword(text: str, parts: _Parts, today: dt.date) -> str:
    def handle(match: re.Match[str]) -> None:
        word = match.group(1)
        offset = {"day after tomorrow": 2, "tomorrow": 1}.get(word, 0)
        parts.days.append(today + dt.timedelta(days=offset))
        parts.day_labels.append("today" if word == "tonight" else word)
        if word == "tonight" and not parts.window:
            parts.window, parts.window_label = PARTS_OF_DAY["evening"], "evening"

    return _take(_DAYWORD_RE, text, handle)


def _take_weekdays(text: str, parts: _Parts, today: dt.date) -> str:
    def handle(match: re.Match[str]) -> None:
        name = match.group(2)
        weekday = WEEKDAYS.index(name) if name in WEEKDAYS else _WEEKDAY_ABBREVIATIONS[name]
        parts.weekdays.append((match.group(1) or "", weekday))

    if re.search(r"\blast\s+(" + "|".join(WEEKDAYS) + r")\b", text):
        parts.past = True
    return _take(_WEEKDAY_RE, text, handle)


def _take_explicit_dates(text: str, parts: _Parts, today: dt.date) -> str:
    """Calendar dates go to dateparser; a bare 'the 3rd' is the next 3rd of a month."""

    def from_now(match: re.Match[str]) -> str:
        return f"in {match.group(1)} {match.group(2)}"

    def handle(match: re.Match[str]) -> None:
        day = _dateparser_date(match.group(0), today)
        if day is not None:
            parts.days.append(day)
            parts.day_labels.append("")

    def day_of_month(match: re.Match[str]) -> None:
        day = _next_day_of_month(int(match.group(1)), today)
        if day is not None:
            parts.days.append(day)
            parts.day_labels.append("")

    text = _FROM_NOW_RE.sub(from_now, text)
    for pattern in _EXPLICIT_DATE_RES:
        text = _take(pattern, text, handle)
    return _take(_DAY_OF_MONTH_RE, text, day_of_month)


def _next_day_of_month(day: int, today: dt.date) -> dt.date | None:
    for months_ahead in range(3):
        first = today.replace(day=1)
        for _ in range(months_ahead):
            first = (first + dt.timedelta(days=32)).replace(day=1)
        try:
            candidate = first.replace(day=day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _dateparser_date(phrase: str, today: dt.date) -> dt.date | None:
    """The calendar date dateparser reads in `phrase` (US month/day for US clinics)."""
    import dateparser  # imported lazily: ~0.3 s, and only booking needs it

    try:
        order = "MDY" if _clinic().country == "US" else "DMY"
    except Exception:  # the knowledge base is optional for this helper
        order = "MDY"
    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": dt.datetime.combine(today, dt.time(12)),
        "DATE_ORDER": order,
        "PREFER_DAY_OF_MONTH": "first",
    }
    parsed = dateparser.parse(phrase.replace("the ", ""), languages=["en"], settings=settings)
    return parsed.date() if parsed else None


def _resolve_weekdays(parts: _Parts, now: dt.datetime) -> None:
    """Turn weekday names into dates: next occurrence, 'next X' = X of next week."""
    if not parts.weekdays:
        return
    today = now.date()
    window = parts.window or (_MIDNIGHT, _END_OF_DAY)
    today_open = now.time() < window[1] and not (parts.at and parts.at <= now.time())
    previous: dt.date | None = None
    for qualifier, weekday in parts.weekdays:
        if parts.span and not previous:  # "tuesday next week": that week's tuesday
            base = parts.span[0] - dt.timedelta(days=parts.span[0].weekday())
            day = base + dt.timedelta(days=weekday)
        elif qualifier == "next":
            day = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7 + weekday)
        else:
            start = previous or today
            day = start + dt.timedelta(days=(weekday - start.weekday()) % 7)
            if day == today and not today_open:
                day += dt.timedelta(days=7)
        parts.days.append(day)
        parts.day_labels.append("")
        previous = day
    if parts.span:
        parts.span = None


def _at(day: dt.date, time: dt.time, zone: dt.tzinfo) -> dt.datetime:
    """Local wall-clock time on `day`; 24:00 is the next midnight (DST-safe)."""
    if time == _END_OF_DAY:
        return dt.datetime.combine(day + dt.timedelta(days=1), _MIDNIGHT, tzinfo=zone)
    return dt.datetime.combine(day, time, tzinfo=zone)


def _to_preference(
    parts: _Parts, now: dt.datetime, horizon: dt.datetime, text: str
) -> Preference | PreferenceProblem:
    zone = now.tzinfo
    assert zone is not None, "`now` is aware (parse_preference makes it so)"
    _resolve_weekdays(parts, now)
    window = parts.window or (_MIDNIGHT, _END_OF_DAY)
    daily = parts.window
    if parts.days:
        first, last = min(parts.days), max(parts.days)
        if first < now.date():
            return PreferenceProblem.past
        span = (first, last + dt.timedelta(days=1))
    elif parts.span:
        span = parts.span
    elif parts.asap or parts.every or not (parts.window or parts.at):
        span = (now.date(), horizon.date() + dt.timedelta(days=1))
    else:  # "after 3", "evening": the next day on which it still fits
        day = now.date()
        if _at(day, window[1], zone) <= now or (parts.at and _at(day, parts.at, zone) <= now):
            day += dt.timedelta(days=1)
        span = (day, day + dt.timedelta(days=1))
    days = [span[0] + dt.timedelta(days=i) for i in range((span[1] - span[0]).days)]
    open_days = [d for d in days if _at(d, window[1], zone) > now]
    if not open_days:
        return PreferenceProblem.past
    earliest = max(_at(open_days[0], window[0], zone), now)
    latest = _at(days[-1], window[1], zone)
    if not parts.days and not parts.span:  # open-ended: stop at the horizon
        latest = min(latest, horizon)
    anchor = earliest
    if parts.at:
        anchor = _at(open_days[0], parts.at, zone)
        if anchor < now:
            return PreferenceProblem.past
    description = _describe(parts, open_days[0], days[-1], now, text)
    return Preference(earliest, latest, anchor, description, daily)


def _day_text(day: dt.date, today: dt.date) -> str:
    if day == today:
        return f"today ({day:%a} {day.day} {day:%b})"
    if day == today + dt.timedelta(days=1):
        return f"tomorrow ({day:%a} {day.day} {day:%b})"
    return f"{day:%A} {day.day} {day:%B}"


def _describe(parts: _Parts, first: dt.date, last: dt.date, now: dt.datetime, text: str) -> str:
    """Short human text for confirming back: 'Tuesday 1 December, afternoon'."""
    today = now.date()
    if parts.days and first == last:
        when = _day_text(first, today)
    elif parts.days:
        joiner = " or " if re.search(r"\bor\b", text) else " to "
        when = _day_text(min(parts.days), today) + joiner + _day_text(max(parts.days), today)
    elif parts.span:
        when = parts.span_label
    elif parts.asap or parts.every:
        when = "" if parts.every else "as soon as possible"
    else:
        when = _day_text(first, today)
    if parts.every and parts.window_label:
        base = f"any {parts.window_label}"
        when = f"{base} {when}".strip() if parts.span else base
    elif parts.window_label:
        when = f"{when}, {parts.window_label}"
    if parts.at:
        when = f"{when} at {_hhmm(parts.at)}"
    return when.strip(" ,")
