"""Records for the console's tests: conversations in a tracker store shaped like Rasa's,
and bookings, call-backs and red flags at chosen times (not a test module)."""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import Any

import sqlalchemy as sa

from actions.records.bookings import request_callback
from actions.records.database import bookings, engine, triage_events, utc
from actions.records.sealed import seal


def tracker_url() -> str:
    return os.environ.get("TRACKER_DB_URL") or f"sqlite:///{os.environ['TRACKER_DB_PATH']}"


def tracker_events(rows: list[dict[str, Any]]) -> None:
    """Write events as Rasa's SQLTrackerStore does (its `events` table, data as JSON with
    non-ASCII escaped). Each row: sender, type ("user"/"bot"/...), at (datetime), text,
    intent, buttons."""
    engine = sa.create_engine(tracker_url(), future=True)
    meta = sa.MetaData()
    events = sa.Table(
        "events",
        meta,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("sender_id", sa.String(255), nullable=False, index=True),
        sa.Column("type_name", sa.String(255), nullable=False),
        sa.Column("timestamp", sa.Float),
        sa.Column("intent_name", sa.String(255)),
        sa.Column("action_name", sa.String(255)),
        sa.Column("data", sa.Text),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        for row in rows:
            ts = row["at"].timestamp()
            data: dict[str, Any] = {"event": row["type"], "timestamp": ts}
            if row["type"] == "user":
                data |= {"text": row["text"], "parse_data": {"intent": {"name": row.get("intent")}}}
            elif row["type"] == "bot":
                data |= {"text": row.get("text"), "data": {"buttons": row.get("buttons")}}
            conn.execute(
                events.insert().values(
                    sender_id=row["sender"],
                    type_name=row["type"],
                    timestamp=ts,
                    intent_name=row.get("intent") if row["type"] == "user" else None,
                    action_name=row.get("action"),
                    data=json.dumps(data),
                )
            )
    engine.dispose()


def booking_row(reference: str, created_at: dt.datetime, starts_at: dt.datetime) -> None:
    """A booking made at `created_at` (the report counts them by that day)."""
    row = {
        "reference": reference,
        "status": "booked",
        "active": 1,
        "starts_at": utc(starts_at),
        "practitioner": "Dr Test",
        "patient_name": seal("Test Patient"),
        "phone": seal("+15550100123"),
        "email": None,
        "patient_type": "new",
        "reason": "back pain",
        "intake_summary": "",
        "triage_level": "routine",
        "conversation_id": f"conv-{reference}",
        "created_at": utc(created_at),
        "updated_at": utc(created_at),
    }
    with engine().begin() as conn:
        conn.execute(bookings.insert().values(**row))


def red_flag(at: dt.datetime, flags: list[str], conversation: str = "conv-rf") -> None:
    row = {
        "created_at": utc(at),
        "conversation_id": conversation,
        "level": "emergency",
        "flags": ",".join(flags),
        "message": "I can't feel my legs",
    }
    with engine().begin() as conn:
        conn.execute(triage_events.insert().values(**row))


def callback(name: str = "Zoë O'Brien", phone: str = "+15550100123") -> int:
    """An open call-back request (and its outbox event); the outbox id."""
    return request_callback(
        name=name,
        phone=phone,
        email=None,
        reason="wants to talk to a person",
        intake_summary="Low back pain, 3 weeks",
        triage_level="routine",
        conversation_id="conv-callback",
    )
