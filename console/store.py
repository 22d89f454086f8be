"""The console's own tables, in the clinic's database (the same engine as the bookings).

They live in their own MetaData so the action server never creates or touches them; they
are created on first use, once per database URL.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text
from sqlalchemy.engine import Connection, Engine

from actions.records.database import database_url
from actions.records.database import engine as records_engine
from actions.records.database import write as records_write

T = TypeVar("T")

metadata = MetaData()

staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),  # argon2id, with its own salt
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
)

#: A browser session: only the token's SHA-256 is stored, so a copied database opens none.
staff_sessions = Table(
    "staff_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("username", String(64), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

#: Failed sign-ins per key ("account:<name>" or "client:<address>"), shared by every thread
#: and process that serves the console.
login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
)

#: Who looked at what: every view of contact details or conversations.
staff_audit = Table(
    "staff_audit",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("username", String(64), nullable=False),
    Column("what", String(300), nullable=False),
    Column("client", String(64), nullable=False),
)


@functools.cache
def _created(url: str) -> Engine:
    engine = records_engine()
    metadata.create_all(engine)
    return engine


def engine() -> Engine:
    """The clinic database's engine, with the console's tables created."""
    return _created(database_url())


def write(work: Callable[[Connection], T]) -> T:
    """Run `work` in one transaction on the clinic database (retried while SQLite is busy)."""
    engine()
    return records_write(work)
