"""Who is asking: a signed-in browser (session cookie) or, for the JSON API, HTTP Basic
with a staff account. Both go through accounts.sign_in's rate limit; refusals say why
without saying whether the account exists.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from console import accounts, sessions
from console.exchange import Request
from console.throttle import Locked


@dataclass(frozen=True)
class Visitor:
    """A signed-in staff member; `session` is None for a Basic-auth API call (no cookie,
    so no CSRF token is needed)."""

    username: str
    session: sessions.Session | None

    @property
    def csrf(self) -> str:
        return self.session.csrf if self.session else ""


class TooManyAttempts(Exception):
    def __init__(self, lock: Locked) -> None:
        super().__init__(lock.message())
        self.lock = lock


def from_session(request: Request) -> Visitor | None:
    session = sessions.find(request.cookie(sessions.COOKIE))
    return Visitor(session.username, session) if session else None


def _basic(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded or len(encoded) > 4096:
        return None
    try:
        name, sep, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return (name, password) if sep else None


def from_basic(request: Request) -> Visitor | None:
    """The account named by an Authorization: Basic header, when its password is right.
    A malformed header counts as no credentials; TooManyAttempts while locked."""
    header = request.headers.get("Authorization")
    pair = _basic(header) if header else None
    if pair is None:
        return None
    result = accounts.sign_in(pair[0], pair[1], request.client)
    if result.locked and not result.ok:
        raise TooManyAttempts(result.locked)
    return Visitor(result.username, None) if result.username else None


def api_visitor(request: Request) -> Visitor | None:
    """Basic auth when given (the usual for scripts), else the browser's session."""
    if request.headers.get("Authorization"):
        return from_basic(request)
    return from_session(request)


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a console page only (never another site)."""
    value = value or ""
    if (
        value.startswith("/staff/")
        and not value.startswith("/staff/api")
        and "//" not in value
        and "\\" not in value
        and value.isprintable()
        and len(value) < 500
    ):
        return value
    return "/staff/"
