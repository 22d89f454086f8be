"""Sign-in rate limit: repeated failures lock an account, and a client address, for a while.

Counted in the database (`login_failures`), so every thread of the web server (and every
replica) sees the same counts. After FREE_FAILURES failures in a row the key is locked for
one minute, and each further failure doubles that, up to MAX_LOCK. A successful sign-in
clears its account's and its address's counts; counts older than FORGET_AFTER start over.
While a key is locked no password is checked at all, so guessing stops.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from actions.records.database import utc, utcnow
from console.store import engine, login_failures, write

FREE_FAILURES = 5
FIRST_LOCK = dt.timedelta(minutes=1)
MAX_LOCK = dt.timedelta(hours=1)
FORGET_AFTER = dt.timedelta(hours=24)


@dataclass(frozen=True)
class Locked:
    """A refusal: the key and how long until it may try again."""

    key: str
    until: dt.datetime

    def minutes(self, now: dt.datetime | None = None) -> int:
        left = (self.until - (now or utcnow())).total_seconds()
        return max(1, math.ceil(left / 60))

    def message(self, now: dt.datetime | None = None) -> str:
        minutes = self.minutes(now)
        return f"Too many attempts, try again in {minutes} min."


def keys(username: str, client: str) -> list[str]:
    """The counters one attempt touches: the account named and the client's address."""
    return [f"account:{username.strip().lower()[:64]}", f"client:{client[:64]}"]


def lock_length(failures: int) -> dt.timedelta | None:
    """How long a key is locked after its `failures`-th failure in a row (None: not yet)."""
    if failures < FREE_FAILURES:
        return None
    return min(FIRST_LOCK * 2 ** (failures - FREE_FAILURES), MAX_LOCK)


def locked(username: str, client: str, now: dt.datetime | None = None) -> Locked | None:
    """The longest lock on this attempt's keys, or None when it may try."""
    now = now or utcnow()
    query = select(login_failures).where(login_failures.c.key.in_(keys(username, client)))
    with engine().connect() as conn:
        rows = list(conn.execute(query))
    found = [
        Locked(row.key, utc(row.locked_until))
        for row in rows
        if row.locked_until is not None and utc(row.locked_until) > now
    ]
    return max(found, key=lambda lock: lock.until) if found else None


def _count(conn: Connection, key: str, now: dt.datetime) -> None:
    row = conn.execute(select(login_failures).where(login_failures.c.key == key)).first()
    if row is None:
        values = {"key": key, "failures": 1, "last_failure_at": now, "locked_until": None}
        conn.execute(login_failures.insert().values(**values))
        return
    stale = now - utc(row.last_failure_at) > FORGET_AFTER
    failures = 1 if stale else row.failures + 1
    lock = lock_length(failures)
    stmt = (
        update(login_failures)
        .where(login_failures.c.key == key)
        .values(failures=failures, last_failure_at=now, locked_until=now + lock if lock else None)
    )
    conn.execute(stmt)


def record_failure(username: str, client: str, now: dt.datetime | None = None) -> None:
    """Count one failed attempt against the account named and the client's address."""
    now = now or utcnow()

    def work(conn: Connection) -> None:
        for key in keys(username, client):
            _count(conn, key, now)

    try:
        write(work)
    except IntegrityError:  # another thread inserted the same new key first: count again
        write(work)


def clear(username: str, client: str, now: dt.datetime | None = None) -> None:
    """Forget the failures of this account and address (after a successful sign-in), and
    every count that is old and unlocked (guessed names would otherwise pile up)."""
    now = now or utcnow()
    mine = login_failures.c.key.in_(keys(username, client))
    old = and_(
        login_failures.c.last_failure_at < now - FORGET_AFTER,
        or_(login_failures.c.locked_until.is_(None), login_failures.c.locked_until < now),
    )
    stmt = delete(login_failures).where(or_(mine, old))
    write(lambda conn: conn.execute(stmt))
