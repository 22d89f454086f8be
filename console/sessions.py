"""Browser sessions and their CSRF tokens.

The cookie holds a random token; the database keeps only its SHA-256, with the account,
a per-session CSRF token and the expiry. The cookie is HttpOnly, SameSite=Strict, limited
to /staff, and Secure when the request came over HTTPS (nginx's X-Forwarded-Proto).
Signing out deletes the row, so a copied cookie stops working at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select

from actions.records.database import utc, utcnow
from console.store import engine, staff_accounts, staff_sessions, write

COOKIE = "staff_session"
#: A double-submit token for the sign-in form, which has no session yet.
LOGIN_COOKIE = "staff_login"
LIFETIME = dt.timedelta(hours=8)  # a working day
COOKIE_PATH = "/staff"


@dataclass(frozen=True)
class Session:
    username: str
    csrf: str
    expires_at: dt.datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start(username: str, now: dt.datetime | None = None) -> tuple[str, Session]:
    """A new session for `username`: (the cookie's token, the session)."""
    now = now or utcnow()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    row = {
        "token_hash": _digest(token),
        "username": username,
        "csrf_token": csrf,
        "created_at": now,
        "expires_at": now + LIFETIME,
    }
    write(lambda conn: conn.execute(staff_sessions.insert().values(**row)))
    return token, Session(username, csrf, now + LIFETIME)


def find(token: str | None, now: dt.datetime | None = None) -> Session | None:
    """The live session of this cookie token, if its account still exists."""
    if not token or len(token) > 128:
        return None
    now = now or utcnow()
    query = (
        select(staff_sessions)
        .join(staff_accounts, staff_accounts.c.username == staff_sessions.c.username)
        .where(staff_sessions.c.token_hash == _digest(token))
    )
    with engine().connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    if utc(row.expires_at) <= now:
        end(token)
        return None
    return Session(row.username, row.csrf_token, utc(row.expires_at))


def end(token: str | None) -> None:
    """Sign out: the session's row goes (nothing happens for an unknown token)."""
    if token:
        stmt = delete(staff_sessions).where(staff_sessions.c.token_hash == _digest(token))
        write(lambda conn: conn.execute(stmt))


def end_expired(now: dt.datetime | None = None) -> int:
    stmt = delete(staff_sessions).where(staff_sessions.c.expires_at <= (now or utcnow()))
    return write(lambda conn: conn.execute(stmt).rowcount)


def csrf_ok(expected: str, given: str | None) -> bool:
    """Whether a form's or header's CSRF token is the session's (constant-time compare)."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def cookie(name: str, value: str, *, secure: bool, max_age: int) -> str:
    """A Set-Cookie value with the console's flags."""
    flags = f"{name}={value}; Path={COOKIE_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Strict"
    return flags + ("; Secure" if secure else "")


def session_cookie(token: str, *, secure: bool) -> str:
    return cookie(COOKIE, token, secure=secure, max_age=int(LIFETIME.total_seconds()))


def cleared_cookie(name: str, *, secure: bool) -> str:
    return cookie(name, "", secure=secure, max_age=0)
