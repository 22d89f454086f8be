"""The records' database: tables, engine, transactions and UTC time.

SQLAlchemy Core over an embedded SQLite file by default (`CLINIC_DB_PATH`, default
`var/clinic.db`), or any database `DATABASE_URL` points at (PostgreSQL in production).
Tables are created on first use.

Double booking is prevented by the database itself, not by a check-then-insert: `bookings`
has a nullable `active` column (1 while booked, NULL once cancelled) and a unique constraint
on (starts_at, practitioner, active). NULLs are distinct in unique constraints on both SQLite
and PostgreSQL, so any number of cancelled rows may share a slot while only one active row
can hold it. (A partial unique index would say the same but is spelt differently per
database; a separate claims table would need two writes per change.)

Every change to a booking writes its hand-off event to `outbox` in the same transaction, so
the clinic's system hears of exactly the bookings that exist (handoff.py delivers).
Logs name references and ids only, never a patient's name, phone or email.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    create_engine,
    event,
    inspect,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from actions.records.sealed import PREFIX, seal
from clinic.paths import ROOT

log = logging.getLogger(__name__)

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

bookings = Table(
    "bookings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("status", String(16), nullable=False),  # booked / cancelled
    #: 1 while booked, NULL when cancelled: the unique constraint below ignores NULL rows.
    Column("active", Integer, nullable=True),
    Column("starts_at", DateTime(timezone=True), nullable=False),  # always UTC
    Column("practitioner", String(128), nullable=False),
    # Sealed (sealed.py): text of any length; "" once retention has removed it.
    Column("patient_name", Text, nullable=False),
    Column("phone", Text, nullable=True),  # E.164, sealed
    Column("email", Text, nullable=True),  # lower case, sealed
    Column("patient_type", String(16), nullable=False),  # new / returning
    Column("reason", Text, nullable=False),
    Column("intake_summary", Text, nullable=False),
    Column("triage_level", String(16), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    #: 0 when made, +1 for every move or cancellation: the calendar file's SEQUENCE.
    Column("revision", Integer, nullable=False, server_default="0"),
    UniqueConstraint("starts_at", "practitioner", "active", name="uq_bookings_active_slot"),
)

#: Call-back requests for staff to handle (the outbox carries the same request to the clinic's
#: system); written with that outbox event, in one transaction.
callbacks = Table(
    "callbacks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("conversation_id", String(128), nullable=False),
    Column("patient_name", Text, nullable=False),  # sealed; "" once removed
    Column("phone", Text, nullable=True),  # sealed
    Column("email", Text, nullable=True),  # sealed
    Column("reason", Text, nullable=False),
    Column("intake_summary", Text, nullable=False),
    Column("triage_level", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # open / done
    Column("handled_at", DateTime(timezone=True), nullable=True),
    Column("handled_by", String(64), nullable=True),  # the staff account that marked it done
)

#: That a patient asked to be forgotten, and when: never what was deleted, nor who.
deletions = Table(
    "deletions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("bookings_cleared", Integer, nullable=False),
    Column("bookings_cancelled", Integer, nullable=False),
    Column("callbacks_cleared", Integer, nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # JSON, sealed
    Column("status", String(16), nullable=False),  # pending / delivered
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
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
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True, connect_args={"timeout": 30})
        _serialise_sqlite_writes(engine)
    else:
        engine = create_engine(url, future=True, pool_pre_ping=True, pool_size=10)
    metadata.create_all(engine)
    _upgrade(engine)
    return engine


#: Columns that hold a person's details, sealed at rest (sealed.py).
SEALED_COLUMNS = ("patient_name", "phone", "email")


def _upgrade(engine: Engine) -> None:
    """Bring a database made by an earlier version up to date: the bookings' revision
    column, contact columns wide enough for sealed values (PostgreSQL checks VARCHAR
    lengths; SQLite does not), and every value written before encryption sealed."""
    columns = {c["name"] for c in inspect(engine).get_columns("bookings")}
    if "revision" not in columns:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "ALTER TABLE bookings ADD COLUMN revision INTEGER NOT NULL DEFAULT 0"
            )
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            narrow = conn.exec_driver_sql(
                "SELECT column_name FROM information_schema.columns WHERE table_name = "
                "'bookings' AND data_type = 'character varying' AND column_name IN "
                "('patient_name', 'phone', 'email')"
            ).fetchall()
            for (column,) in narrow:
                conn.exec_driver_sql(f"ALTER TABLE bookings ALTER COLUMN {column} TYPE TEXT")
    with engine.begin() as conn:
        _seal_plain_rows(conn)


def _seal_plain_rows(conn: Connection) -> int:
    """Seal the contact details and hand-off payloads still stored in clear text."""

    def plain(column: Any) -> Any:
        return and_(column.is_not(None), column != "", not_(column.startswith(PREFIX)))

    changed = 0
    cols = [bookings.c[name] for name in SEALED_COLUMNS]
    for row in conn.execute(select(bookings.c.id, *cols).where(or_(*(plain(c) for c in cols)))):
        values = {name: seal(getattr(row, name)) for name in SEALED_COLUMNS}
        changed += conn.execute(
            update(bookings).where(bookings.c.id == row.id).values(**values)
        ).rowcount
    for row in conn.execute(select(outbox.c.id, outbox.c.payload).where(plain(outbox.c.payload))):
        stmt = update(outbox).where(outbox.c.id == row.id).values(payload=seal(row.payload))
        changed += conn.execute(stmt).rowcount
    if changed:
        log.info("sealed %d rows written before contact details were encrypted", changed)
    return changed


def _serialise_sqlite_writes(engine: Engine) -> None:
    """Open every SQLite transaction with BEGIN IMMEDIATE.

    pysqlite's default deferred transactions let two writers both read and then fail to
    upgrade their locks ("database is locked" at once, no busy wait). Taking the write lock
    up front makes concurrent writers queue on the 30 s busy timeout instead."""

    @event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        # What retention or "forget me" removes is overwritten, not left in free pages.
        dbapi_connection.execute("PRAGMA secure_delete=ON")

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def engine() -> Engine:
    return _engine_for(database_url())


# --- time helpers ---------------------------------------------------------------------------


def utc(value: dt.datetime) -> dt.datetime:
    """`value` as aware UTC; naive values (how SQLite returns them) are UTC already.

    Every timestamp is written in UTC so that SQLite's text columns compare and collide
    (unique constraint) exactly as PostgreSQL's timestamptz do."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# --- transactions ---------------------------------------------------------------------------

T = TypeVar("T")


def write(work: Callable[[Connection], T], attempts: int = 5) -> T:
    """Run `work` in one transaction, retrying when SQLite still reports a lock."""
    for attempt in range(attempts):
        try:
            with engine().begin() as conn:
                return work(conn)
        except OperationalError as exc:
            if "locked" not in str(exc).lower() or attempt == attempts - 1:
                raise
            log.warning("database locked, retrying (attempt %d)", attempt + 1)
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")


def iter_tables() -> Iterator[Table]:
    """Tables, children first: for tests that empty a database."""
    return reversed(metadata.sorted_tables)
