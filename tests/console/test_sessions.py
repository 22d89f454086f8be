"""Cookie sessions and CSRF tokens (console/sessions.py)."""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select

from actions.records.database import utcnow
from console import sessions
from console.store import engine, staff_sessions


def test_only_a_hash_of_the_token_is_stored(staff):
    token, session = sessions.start("alice")
    with engine().connect() as conn:
        row = conn.execute(select(staff_sessions)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in row.token_hash and len(token) >= 40
    assert session.csrf == row.csrf_token and session.csrf != token


def test_a_session_ends_when_it_expires_or_is_ended(staff):
    now = utcnow()
    token, _ = sessions.start("alice", now)
    assert sessions.find(token, now + dt.timedelta(hours=7)) is not None
    assert sessions.find(token, now + sessions.LIFETIME) is None  # expired, and deleted
    assert sessions.find(token, now) is None
    token, _ = sessions.start("alice")
    sessions.end(token)
    assert sessions.find(token) is None
    assert sessions.find("") is None and sessions.find("x" * 500) is None


def test_csrf_tokens_are_compared_whole():
    assert sessions.csrf_ok("abc123", "abc123")
    assert not sessions.csrf_ok("abc123", "abc124")
    assert not sessions.csrf_ok("abc123", "")
    assert not sessions.csrf_ok("abc123", None)


def test_cookie_flags():
    plain = sessions.session_cookie("tok", secure=False)
    assert plain.startswith("staff_session=tok;")
    for flag in ("HttpOnly", "SameSite=Strict", "Path=/staff", "Max-Age=28800"):
        assert flag in plain
    assert "Secure" not in plain
    assert sessions.session_cookie("tok", secure=True).endswith("; Secure")
    assert "Max-Age=0" in sessions.cleared_cookie(sessions.COOKIE, secure=False)
