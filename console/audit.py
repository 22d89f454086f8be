"""The audit log: every view of patients' contact details or conversations, by whom.

Written before the data is sent, so a view that could not be recorded is not shown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from actions.records.database import utc, utcnow
from console.store import engine, staff_audit, write


@dataclass(frozen=True)
class Entry:
    id: int
    at: dt.datetime
    username: str
    what: str
    client: str


def record(username: str, what: str, client: str) -> None:
    """Log that `username` (from `client`) viewed `what`, e.g. "transcript <id>"."""
    row = {"at": utcnow(), "username": username[:64], "what": what[:300], "client": client[:64]}
    write(lambda conn: conn.execute(staff_audit.insert().values(**row)))


def entries(limit: int = 200, username: str | None = None) -> list[Entry]:
    """The newest entries first, optionally one account's."""
    query = select(staff_audit).order_by(staff_audit.c.id.desc()).limit(limit)
    if username:
        query = query.where(staff_audit.c.username == username)
    with engine().connect() as conn:
        rows = list(conn.execute(query))
    return [Entry(r.id, utc(r.at), r.username, r.what, r.client) for r in rows]
