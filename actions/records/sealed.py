"""Contact details encrypted at rest: a copied bookings database shows no names, phone
numbers or emails.

The patient's name, phone and email in `bookings`, and every hand-off payload in `outbox`
(it carries the same details), are stored sealed: Fernet from the `cryptography` package
(AES-128-CBC with an HMAC-SHA256, a fresh IV per value), as `enc1:<token>`. The key is
`CLINIC_DATA_KEY` (a Fernet key: `python -c "from cryptography.fernet import Fernet;
print(Fernet.generate_key().decode())"`), else one generated on first use and kept in
`var/data-key` (mode 600, git-ignored; under CLINIC_VAR_DIR when set). Every process that
reads the database needs the same key: replicas on other machines must be given
`CLINIC_DATA_KEY`. A value without the prefix (written before encryption) reads as it is,
and is sealed when the database is opened (database.py).
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from clinic.paths import var_dir

PREFIX = "enc1:"
KEY_ENV = "CLINIC_DATA_KEY"


class SealError(RuntimeError):
    """A sealed value that this key cannot open (another key, or the value was altered)."""


def key_path() -> Path:
    return var_dir() / "data-key"


def data_key() -> bytes:
    """The key's bytes, for keyed hashes of other things (the calendar links' tokens)."""
    return _load_or_create_key()


def _load_or_create_key() -> bytes:
    given = os.environ.get(KEY_ENV)
    if given:
        return given.strip().encode("ascii")
    return _key_file(key_path())


@functools.cache
def _key_file(path: Path) -> bytes:
    """The key kept at `path`, made there first if need be; read once per process."""
    if not path.exists():
        _create_key_file(path)
    return path.read_bytes().strip()


def _create_key_file(path: Path) -> None:
    """Write a new key beside `path`, then link it into place: the file appears whole, and
    when two servers start at once the first link wins and both read the same key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(Fernet.generate_key() + b"\n")
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs
            os.link(staging, path)
    finally:
        staging.unlink(missing_ok=True)


@functools.cache
def _fernet_for(key: bytes) -> Fernet:
    try:
        return Fernet(key)
    except ValueError:
        raise SealError(
            f"{KEY_ENV} (or {key_path()}) is not a Fernet key: 32 url-safe base64-encoded bytes"
        ) from None


def _fernet() -> Fernet:
    return _fernet_for(_load_or_create_key())


def is_sealed(value: str | None) -> bool:
    return bool(value) and str(value).startswith(PREFIX)


def seal(value: str | None) -> str | None:
    """`value` encrypted (None and "" stay as they are: nothing to hide)."""
    if not value or is_sealed(value):
        return value
    return PREFIX + _fernet().encrypt(value.encode("utf-8")).decode("ascii")


def unseal(value: str | None) -> str | None:
    """The clear text of a sealed value; an unsealed one as it is."""
    if not is_sealed(value):
        return value
    token = str(value)[len(PREFIX) :].encode("ascii")
    try:
        return _fernet().decrypt(token).decode("utf-8")
    except InvalidToken:
        raise SealError("a sealed value could not be opened with this key") from None
