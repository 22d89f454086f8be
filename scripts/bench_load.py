"""The load half of `make bench` (scripts/bench.py): patient messages, the REST client, the
three load phases and the statistics they report.

Every phase talks to a running server over the REST channel only (POST
/webhooks/rest/webhook), as a website or another back end would; sender ids are fresh uuids,
so a run never continues a conversation of an earlier run.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp

WEBHOOK = "/webhooks/rest/webhook"
REQUEST_TIMEOUT = 60.0  # seconds: a reply slower than this counts as an error

#: What patients with lower back pain type: short fragments, follow-up answers and questions
#: about conditions, treatments and the clinic. Written for the benchmark (not taken from the
#: evaluation sets), free of red flags (they would send every turn to urgent-care triage) and
#: of booking requests (a booking form would turn the long conversation into slot filling).
MESSAGES: tuple[str, ...] = (
    "hi",
    "lower back pain, quite sore today",
    "3 days",
    "no",
    "worse when I cough",
    "what is sciatica?",
    "does sciatica go away on its own",
    "what treatments do you offer",
    "is spinal manipulation safe",
    "what are your opening hours",
    "are you open on saturdays",
    "should I use ice or heat",
    "thanks",
    "how long does a pulled back muscle take to heal",
    "it's a dull ache",
    "about 2 weeks",
    "sitting at my desk makes it worse",
    "can I still go to the gym",
    "which stretches help lower back pain",
    "do I need an x-ray first",
    "do you take insurance",
    "how much does a visit cost",
    "where are you",
    "is there parking nearby",
    "what should I bring on my first visit",
    "do I need a referral from my GP",
    "what is a herniated disc",
    "can a slipped disc heal without surgery",
    "why does the spinal canal narrow",
    "ok",
    "yes",
    "how should I sleep with back pain",
    "is it ok to take ibuprofen",
    "should I rest or keep moving",
    "how many sessions will I need",
    "will I be sore after an adjustment",
    "what's the difference between a chiropractor and a physio",
    "do you do video consultations",
    "can I drive with sciatica",
    "is a back brace a good idea",
    "how do I stop it coming back",
    "I think my posture is bad",
    "mostly in the morning",
    "it eases off when I walk",
    "bending forward hurts",
    "no, nothing like that",
    "what is degenerative disc disease",
    "is spondylolisthesis serious",
    "can arthritis cause back pain",
    "are your chiropractors licensed",
    "thank you",
    "what happens at the first visit",
    "do you treat pregnant women",
    "do you see teenagers",
    "I lift boxes at work all day",
    "it started after gardening",
    "on and off for a month",
    "what's your phone number",
    "does massage help",
    "great, thanks for the help",
)


@dataclass
class Tally:
    """Latencies in milliseconds, in the order sent, and the requests that failed."""

    latencies: list[float]
    errors: int = 0

    @classmethod
    def of(cls, results: Sequence[float | None]) -> Tally:
        """From round trips in order, None for a failed request."""
        kept = [r for r in results if r is not None]
        return cls(kept, len(results) - len(kept))


def message(index: int) -> str:
    """The index-th benchmark message, cycling through MESSAGES."""
    return MESSAGES[index % len(MESSAGES)]


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The pct-th percentile (0-100), linear between closest ranks (numpy's default);
    None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def turn_window(results: Sequence[float | None], first: int, last: int) -> list[float]:
    """Latencies of turns first..last of one conversation, counted from 1, both included
    (a failed turn, None, is left out but keeps its place)."""
    return [r for r in results[max(first, 1) - 1 : last] if r is not None]


def summary(latencies: Sequence[float]) -> dict[str, float | int | None]:
    """p50 and p95 in milliseconds, with the sample size."""
    return {"n": len(latencies), "p50": percentile(latencies, 50), "p95": percentile(latencies, 95)}


def new_sender(tag: str) -> str:
    """A sender id no earlier run used."""
    return f"bench-{tag}-{uuid.uuid4().hex[:12]}"


def new_session() -> aiohttp.ClientSession:
    """One user's connection pool: one kept-alive connection, as a browser tab would have."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=1),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
    )


async def send(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> float | None:
    """POST one message; its round trip in milliseconds, or None if it failed (not 200)."""
    started = time.perf_counter()
    try:
        async with session.post(url, json={"sender": sender, "message": text}) as resp:
            await resp.read()
            if resp.status != 200:
                return None
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return None
    return (time.perf_counter() - started) * 1000


async def _send_all(url: str, turns: Sequence[tuple[str, str]]) -> list[float | None]:
    """(sender, text) pairs one after another over one session; round trips in order."""
    async with new_session() as session:
        return [await send(session, url, sender, text) for sender, text in turns]


async def fresh_conversations(base: str, count: int = 60, warmup: int = 5) -> Tally:
    """One user; every message opens a new conversation (new sender id); warm-up not kept."""
    url = base + WEBHOOK
    await _send_all(url, [(new_sender("warm"), message(i)) for i in range(warmup)])
    return Tally.of(await _send_all(url, [(new_sender("fresh"), message(i)) for i in range(count)]))


async def long_conversation(base: str, turns: int = 60) -> list[float | None]:
    """One sender for `turns` turns; round trips by turn, None for a failed one."""
    sender = new_sender("long")
    return await _send_all(base + WEBHOOK, [(sender, message(i)) for i in range(turns)])


async def concurrent_users(base: str, users: int = 20, turns: int = 10) -> tuple[Tally, float]:
    """`users` users at once, each its own sender, `turns` messages one after another;
    all the latencies and the wall time in seconds."""
    url = base + WEBHOOK

    async def user(number: int) -> Tally:
        sender = new_sender(f"user{number}")
        turns_of_user = [(sender, message(number * 3 + i)) for i in range(turns)]
        return Tally.of(await _send_all(url, turns_of_user))

    started = time.perf_counter()
    tallies = await asyncio.gather(*(user(n) for n in range(users)))
    wall = time.perf_counter() - started
    merged = Tally([lat for t in tallies for lat in t.latencies], sum(t.errors for t in tallies))
    return merged, wall


async def run_load(base: str, users: int, turns: int, sample=None) -> dict:
    """The three phases against `base` (http://host:port); `sample()`, if given, is called
    after each phase (to read memory while the server is at its fullest)."""
    fresh = await fresh_conversations(base)
    _call(sample)
    long = await long_conversation(base)
    _call(sample)
    many, wall = await concurrent_users(base, users, turns)
    _call(sample)
    done = len(many.latencies)
    return {
        "fresh": {**summary(fresh.latencies), "errors": fresh.errors},
        "long": {
            "turns_1_10": summary(turn_window(long, 1, 10)),
            "turns_50_60": summary(turn_window(long, 50, 60)),
            "errors": sum(r is None for r in long),
        },
        "concurrent": {
            **summary(many.latencies),
            "users": users,
            "turns": turns,
            "errors": many.errors,
            "seconds": wall,
            "req_per_s": done / wall if wall > 0 else None,
        },
    }


def _call(sample) -> None:
    if sample is not None:
        sample()
