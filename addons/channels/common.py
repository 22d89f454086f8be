"""What every messaging connector needs: long answers split within the platform's limit,
a platform's retried event answered once, and the number a red-flag reply leads with.

`split_text` cuts at a paragraph, then a line, then a sentence end, then a space, so no
word is ever cut and a short warning stays whole in one piece. `SeenEvents` remembers the
event ids answered lately in this server (Slack and Messenger resend events they think were
lost, Twilio retries on a timeout), in Redis with replicas so that a retry reaching the
other server is known there too.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

import redis

logger = logging.getLogger(__name__)

#: The Redis keys of seen platform events (beside the lock store's own).
REDIS_PREFIX = "clinic:seen-event:"

#: A red-flag reply leads with the number to call (actions/wording.yml, triage_*).
CALL_FIRST = re.compile(
    r"^(?:Please )?[Cc]all(?: or text)? (?P<number>\+?\d[\d ()-]{0,18}\d|\d) now\b"
)

#: Where a long answer may be cut, best first.
BREAKS = (
    re.compile(r"\n\s*\n"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?])\s+"),
    re.compile(r"\s+"),
)


def split_text(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at the best break available
    (never inside a word, unless a single word is longer than the limit)."""
    text = text.strip()
    pieces: list[str] = []
    while len(text) > limit:
        cut = _best_cut(text, limit)
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _best_cut(text: str, limit: int) -> int:
    window = text[: limit + 1]
    for pattern in BREAKS:
        ends = [m.start() for m in pattern.finditer(window) if 0 < m.start() <= limit]
        if ends:
            return ends[-1]
    return limit  # one word longer than the limit: nothing better to do


def red_flag_call(text: str) -> str | None:
    """The number a red-flag reply tells the person to call first, when it leads with one:
    a connector shows it as the platform's tappable call (a Messenger call button, a Slack
    tel: link); on SMS and WhatsApp the phone recognises the plain number."""
    match = CALL_FIRST.match(text or "")
    return match.group("number") if match else None


def link_red_flag_call(text: str, link: Callable[[str, str], str]) -> str | None:
    """`text` with the number its red-flag reply leads with replaced by `link(number, dial)`
    (`dial`: the digits and + a tel: link takes), or None when it leads with no number."""
    number = red_flag_call(text)
    if number is None:
        return None
    start = text.index(number)
    dial = re.sub(r"[^\d+]", "", number)
    return f"{text[:start]}{link(number, dial)}{text[start + len(number) :]}"


class SeenEvents:
    """Event ids answered in the last `ttl` seconds: in Redis when `REDIS_URL` is set (the
    replicas' lock store; `make run` passes it to every Rasa server), so a retry that reaches
    the other server is still a repeat; else in this process (at most `size` kept)."""

    def __init__(self, ttl: float = 3600, size: int = 10_000, redis_url: str | None = None) -> None:
        self.ttl, self.size = ttl, size
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        url = redis_url if redis_url is not None else os.environ.get("REDIS_URL")
        self._redis = redis.Redis.from_url(url, socket_timeout=2) if url else None

    def first_time(self, event_id: str | None, now: float | None = None) -> bool:
        """True the first time an id is seen (and for no id at all), False for a repeat."""
        if not event_id:
            return True
        if self._redis is not None:
            try:
                key = f"{REDIS_PREFIX}{event_id}"
                return bool(self._redis.set(key, 1, nx=True, ex=max(1, int(self.ttl))))
            except redis.RedisError as error:  # answer rather than drop the message
                logger.warning("seen events: Redis unavailable (%s); this server only", error)
        return self._first_here(event_id, time.monotonic() if now is None else now)

    def _first_here(self, event_id: str, now: float) -> bool:
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now - self.ttl:
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            while len(self._seen) > self.size:
                self._seen.popitem(last=False)
            return True
