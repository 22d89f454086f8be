"""Pytest plugin: a throwaway PostgreSQL 15 server, and a fresh database per test.

`postgres_url` starts `initdb` + `pg_ctl` on 127.0.0.1 and a free port (session scope);
`db_url` gives each test an empty database, SQLite or PostgreSQL, through DATABASE_URL.
PostgreSQL refuses to run as root, so under root the server runs as the unprivileged
`nobody` user (via `runuser`) in a temporary directory owned by it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_DIRS = ("/usr/local/bin", "/usr/lib/postgresql/15/bin")
RUN_AS = "nobody"


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for directory in PG_DIRS:
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    """`command` as the unprivileged user when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return command
    runuser = shutil.which("runuser") or "/usr/sbin/runuser"
    return [runuser, "-u", RUN_AS, "--", *command]


def _run(command: list[str], cwd: Path) -> None:
    result = subprocess.run(
        _as_server_user(command), cwd=cwd, capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(f"{command[0]} failed ({result.returncode}): {result.stderr[-2000:]}")


def _wait_for(port: int, timeout: float = 20) -> None:
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg2.connect(
                host="127.0.0.1", port=port, user="postgres", dbname="postgres"
            ).close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _admin(port: int, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """postgresql://postgres@127.0.0.1:<port>/clinic_test on a private server."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not (initdb and pg_ctl):
        pytest.skip(
            "PostgreSQL binaries (initdb/pg_ctl) not found: install postgresql-15 or put them "
            f"on PATH (looked on PATH and in {', '.join(PG_DIRS)})"
        )
    base = Path(tempfile.mkdtemp(prefix="clinic-pg-"))  # /tmp, reachable by `nobody`
    if os.geteuid() == 0:
        user = pwd.getpwnam(RUN_AS)
        os.chown(base, user.pw_uid, user.pw_gid)
    data, port = base / "data", _free_port()
    options = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 "
        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    )
    _run(
        [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        cwd=base,
    )
    _run([pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"], base)
    try:
        _wait_for(port)
        _admin(port, "CREATE DATABASE clinic_test")
        yield f"postgresql://postgres@127.0.0.1:{port}/clinic_test"
    finally:
        subprocess.run(
            _as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
            cwd=base,
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


def _empty(url: str) -> None:
    """Remove every row the storage layer keeps, so each test starts from nothing."""
    from sqlalchemy import text

    from actions.records import database

    with database._engine_for(url).begin() as conn:
        names = ", ".join(t.name for t in database.iter_tables())
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path, monkeypatch) -> str:
    """An empty clinic database of each kind, made current through DATABASE_URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'clinic.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        _empty(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url
