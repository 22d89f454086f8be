"""Persistent records the clinic's staff review: red-flag triage events.

SQLAlchemy Core over an embedded SQLite file by default (`CLINIC_DB_PATH`, default
`var/clinic.db`), or any database `DATABASE_URL` points at (PostgreSQL in production).
Tables are created on first use.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
)
from sqlalchemy.engine import Engine

from actions.knowledge import ROOT

DEFAULT_DB_PATH = ROOT / "var" / "clinic.db"

metadata = MetaData()

triage_events = Table(
    "triage_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("level", String(16), nullable=False),
    Column("flags", String(512), nullable=False),
    Column("message", Text, nullable=False),
)


def database_url() -> str:
    """`DATABASE_URL` if set, else the SQLite file at `CLINIC_DB_PATH` (or var/clinic.db)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    path = Path(os.environ.get("CLINIC_DB_PATH") or DEFAULT_DB_PATH)
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@functools.cache
def _engine_for(url: str) -> Engine:
    engine = create_engine(url, future=True, pool_pre_ping=True)
    metadata.create_all(engine)
    return engine


def engine() -> Engine:
    return _engine_for(database_url())


def record_triage_event(conversation_id: str, level: str, flags: list[str], message: str) -> int:
    """Store a red flag for staff review; returns the record's id."""
    row = {
        "created_at": dt.datetime.now(dt.timezone.utc),
        "conversation_id": conversation_id[:128],
        "level": level,
        "flags": ",".join(flags)[:512],
        "message": message,
    }
    with engine().begin() as conn:
        return conn.execute(insert(triage_events).values(**row)).inserted_primary_key[0]


def recent_triage_events(limit: int = 50) -> list[dict[str, Any]]:
    """The latest red-flag events, newest first."""
    query = select(triage_events).order_by(triage_events.c.id.desc()).limit(limit)
    with engine().connect() as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
