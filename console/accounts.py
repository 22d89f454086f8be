"""Staff accounts: argon2id password hashes (argon2-cffi), one salt per account.

Signing in always verifies one hash, a dummy one for an unknown name, so the answer takes
about as long whether or not the account exists; the rate limit (throttle.py) is checked
first and counts every failure. `ensure_admin` makes the first account for `make run`.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from actions.records.database import utc, utcnow
from clinic.paths import var_dir
from console import throttle
from console.store import engine, staff_accounts, staff_sessions, write

#: argon2id with the library's defaults (RFC 9106's low-memory profile: 64 MiB, t=3).
HASHER = PasswordHasher()
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
ADMIN = "admin"
ADMIN_PASSWORD_ENV = "STAFF_ADMIN_PASSWORD"


class AccountError(ValueError):
    """A name or password that cannot be used, or an account that exists already."""


@dataclass(frozen=True)
class Account:
    username: str
    created_at: dt.datetime
    last_login_at: dt.datetime | None


@dataclass(frozen=True)
class SignIn:
    """The outcome of one attempt: the account, or why not (a lock says for how long)."""

    username: str | None
    locked: throttle.Locked | None = None

    @property
    def ok(self) -> bool:
        return self.username is not None


def admin_password_path() -> Path:
    return var_dir() / "staff-admin-password"


def check_username(name: str) -> str:
    """The account name in its stored form (lower case); AccountError when unusable."""
    name = (name or "").strip().lower()
    if not USERNAME.fullmatch(name):
        raise AccountError(
            "an account name is 1-64 characters: letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password or "") <= MAX_PASSWORD:
        raise AccountError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if password != password.strip():
        raise AccountError("a password may not start or end with a space")
    return password


def add_user(name: str, password: str) -> str:
    """Create an account; its stored name. AccountError if it exists or is not valid."""
    name, password = check_username(name), check_password(password)
    row = {"username": name, "password_hash": HASHER.hash(password), "created_at": utcnow()}
    try:
        write(lambda conn: conn.execute(staff_accounts.insert().values(**row)))
    except IntegrityError:
        raise AccountError(f"there is already an account named {name!r}") from None
    return name


def remove_user(name: str) -> bool:
    """Delete an account and sign it out everywhere; False when there is none."""
    name = (name or "").strip().lower()

    def work(conn: Connection) -> int:
        conn.execute(delete(staff_sessions).where(staff_sessions.c.username == name))
        stmt = delete(staff_accounts).where(staff_accounts.c.username == name)
        return conn.execute(stmt).rowcount

    return write(work) == 1


def users() -> list[Account]:
    query = select(staff_accounts).order_by(staff_accounts.c.username)
    with engine().connect() as conn:
        rows = list(conn.execute(query))
    return [
        Account(r.username, utc(r.created_at), utc(r.last_login_at) if r.last_login_at else None)
        for r in rows
    ]


def exists(name: str) -> bool:
    query = select(staff_accounts.c.id).where(staff_accounts.c.username == name)
    with engine().connect() as conn:
        return conn.execute(query).first() is not None


def count() -> int:
    with engine().connect() as conn:
        return conn.execute(select(func.count()).select_from(staff_accounts)).scalar_one()


@functools.cache
def _dummy_hash() -> str:
    """A hash no password matches, verified for unknown names so they take as long."""
    return HASHER.hash(secrets.token_urlsafe(16))


def _stored_hash(name: str) -> str | None:
    query = select(staff_accounts.c.password_hash).where(staff_accounts.c.username == name)
    with engine().connect() as conn:
        return conn.execute(query).scalar_one_or_none()


def _verify(stored: str, password: str) -> bool:
    try:
        return HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def sign_in(name: str, password: str, client: str) -> SignIn:
    """Check a name and password, within the rate limit; counts a failure, clears on success."""
    name = (name or "").strip().lower()[:64]
    lock = throttle.locked(name, client)
    if lock is not None:
        return SignIn(None, lock)
    stored = _stored_hash(name) if USERNAME.fullmatch(name) else None
    good = _verify(stored or _dummy_hash(), (password or "")[:MAX_PASSWORD])
    if not (good and stored):
        throttle.record_failure(name, client)
        return SignIn(None, throttle.locked(name, client))
    throttle.clear(name, client)
    values: dict = {"last_login_at": utcnow()}
    if HASHER.check_needs_rehash(stored):  # the parameters were raised since: re-hash now
        values["password_hash"] = HASHER.hash(password)
    stmt = update(staff_accounts).where(staff_accounts.c.username == name).values(**values)
    write(lambda conn: conn.execute(stmt))
    return SignIn(name)


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a new file of mode 600 beside `path`, then move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    os.replace(tmp, path)


def ensure_admin() -> str:
    """Make the `admin` account when there is no account at all; a line saying where its
    password is (STAFF_ADMIN_PASSWORD, else a generated one in var/staff-admin-password).
    Never the password itself."""
    path = admin_password_path()
    if count():
        where = f"; the first admin password is in {path}" if path.exists() else ""
        return f"sign in with a staff account{where}"
    given = os.environ.get(ADMIN_PASSWORD_ENV)
    if given:
        add_user(ADMIN, given)
        return f"account '{ADMIN}' created with the password in {ADMIN_PASSWORD_ENV}"
    password = secrets.token_urlsafe(18)
    _write_private(path, password)
    add_user(ADMIN, password)
    return f"account '{ADMIN}' created; its password is in {path} (readable by you only)"
