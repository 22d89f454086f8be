"""The conversations, read from Rasa's SQL tracker store (table `events`), read-only.

Where: `actions.records.retention.tracker_db_url()` (TRACKER_DB_URL, else the SQLite file
TRACKER_DB_PATH, default var/tracker.db). Only SELECTs are run; a store that does not exist
yet (no SQLite file, no `events` table) reads as empty, and is never created from here.
User and bot texts are in each row's `data` JSON; Rasa writes it with non-ASCII characters
escaped, so a search looks for both spellings and then checks the decoded text.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from actions.records.retention import TRACKER_EVENTS, tracker_db_url

NOT_UNDERSTOOD = ("nlu_fallback", "out_of_scope")
MAX_QUERY = 200
SCAN_LIMIT = 5000  # candidate rows read for one text search

events = sa.table(
    TRACKER_EVENTS,
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("intent_name", sa.String),
    sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)


@functools.cache
def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        return sa.create_engine(url, future=True, connect_args={"timeout": 10})
    return sa.create_engine(url, future=True, pool_pre_ping=True, pool_size=2)


def store() -> Engine | None:
    """The tracker store's engine, or None while it has no conversations table."""
    url = tracker_db_url()
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path != ":memory:" and not Path(path).is_file():
            return None
    engine = _engine_for(url)
    return engine if sa.inspect(engine).has_table(TRACKER_EVENTS) else None


def when(timestamp: float | None) -> dt.datetime | None:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc) if timestamp else None


def _data(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(kind: str, raw: str | None) -> str:
    """A user's or the bot's words, with a bot's button titles after them in brackets."""
    data = _data(raw)
    text = data.get("text") or ""
    if kind == "bot":
        buttons = (data.get("data") or {}).get("buttons") or []
        titles = [str(b.get("title", "")) for b in buttons if isinstance(b, dict)]
        text = " ".join([text, *(f"[{t}]" for t in titles if t)]).strip()
    return str(text)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _summaries(engine: Engine, senders: list[str] | None, limit: int) -> list[dict[str, Any]]:
    user = sa.case((events.c.type_name == "user", 1), else_=0)
    query = (
        sa.select(
            events.c.sender_id,
            sa.func.min(events.c.timestamp).label("first"),
            sa.func.max(events.c.timestamp).label("last"),
            sa.func.sum(user).label("messages"),
        )
        .group_by(events.c.sender_id)
        .order_by(sa.func.max(events.c.timestamp).desc())
        .limit(limit)
    )
    if senders is not None:
        query = query.where(events.c.sender_id.in_(senders[:1000]))
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    return [
        {
            "conversation_id": r.sender_id,
            "started_at": when(r.first),
            "last_message_at": when(r.last),
            "user_messages": int(r.messages or 0),
        }
        for r in rows
    ]


def _matching_senders(engine: Engine, q: str) -> list[str]:
    """Conversations whose id contains `q`, or where the user typed `q` (any case)."""
    # Non-ASCII letters are stored escaped ("\\u00eb"), where case-insensitive matching
    # cannot reach: look for the lower and upper case forms too; the text check decides.
    variants = {q, q.lower(), q.upper()}
    patterns = {_like(v) for v in variants} | {_like(json.dumps(v)[1:-1]) for v in variants}
    by_id = sa.select(events.c.sender_id).where(events.c.sender_id.ilike(_like(q), escape="\\"))
    by_text = (
        sa.select(events.c.sender_id, events.c.data)
        .where(
            events.c.type_name == "user",
            sa.or_(*(events.c.data.ilike(p, escape="\\") for p in patterns)),
        )
        .order_by(events.c.id.desc())
        .limit(SCAN_LIMIT)
    )
    needle = q.casefold()
    with engine.connect() as conn:
        found = {row.sender_id for row in conn.execute(by_id.distinct().limit(1000))}
        for row in conn.execute(by_text):
            if needle in _text("user", row.data).casefold():
                found.add(row.sender_id)
    return sorted(found)


def conversations(q: str = "", limit: int = 50) -> list[dict[str, Any]]:
    """The latest conversations, or those matching `q` by id or by what the user typed."""
    engine = store()
    if engine is None:
        return []
    q = (q or "").strip()[:MAX_QUERY]
    senders = _matching_senders(engine, q) if q else None
    if senders == []:
        return []
    return _summaries(engine, senders, limit)


def transcript(conversation_id: str, limit: int = 2000) -> list[dict[str, Any]] | None:
    """What the user and the bot said, in order; None when there is no such conversation."""
    engine = store()
    if engine is None or not conversation_id or len(conversation_id) > 255:
        return None
    query = (
        sa.select(events)
        .where(events.c.sender_id == conversation_id)
        .order_by(events.c.id)
        .limit(limit * 10)
    )
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    if not rows:
        return None
    said = [
        {
            "at": when(r.timestamp),
            "speaker": r.type_name,
            "text": _text(r.type_name, r.data),
            "intent": r.intent_name if r.type_name == "user" else None,
        }
        for r in rows
        if r.type_name in ("user", "bot")
    ]
    return said[:limit]


def not_understood(limit: int = 200) -> list[dict[str, Any]]:
    """User messages the assistant did not understand (fallback or out of scope), newest
    first."""
    engine = store()
    if engine is None:
        return []
    query = (
        sa.select(events.c.sender_id, events.c.timestamp, events.c.intent_name, events.c.data)
        .where(events.c.type_name == "user", events.c.intent_name.in_(NOT_UNDERSTOOD))
        .order_by(events.c.timestamp.desc(), events.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        rows = list(conn.execute(query))
    return [
        {
            "at": when(r.timestamp),
            "conversation_id": r.sender_id,
            "intent": r.intent_name,
            "text": _text("user", r.data),
        }
        for r in rows
    ]


def user_messages(start: dt.datetime, end: dt.datetime) -> list[tuple[str, float, str | None]]:
    """(conversation, timestamp, intent) of every user message in [start, end)."""
    engine = store()
    if engine is None:
        return []
    query = sa.select(events.c.sender_id, events.c.timestamp, events.c.intent_name).where(
        events.c.type_name == "user",
        events.c.timestamp >= start.timestamp(),
        events.c.timestamp < end.timestamp(),
    )
    with engine.connect() as conn:
        return [(r.sender_id, r.timestamp, r.intent_name) for r in conn.execute(query)]
