"""`RASA_REPLICAS=N make run`: N Rasa servers and M action servers behind nginx, on one machine.

The same topology as deploy/ describes for a cluster, with real parts: nginx (Debian package)
spreads REST and webhook requests over the Rasa servers and keeps each socket.io connection
on one of them; Rasa's Redis lock store keeps one conversation's messages in order whichever
server takes them; the PostgreSQL tracker store lets every server see every conversation.
Redis and PostgreSQL come from REDIS_URL and TRACKER_DB_URL when set; otherwise private
ones are started on loopback from the binaries found here (data in var/). Nothing is
installed: what is missing is named, with the Debian package that provides it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

PG_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/local/bin")
SBIN_DIRS = ("/usr/sbin", "/usr/local/sbin")
PG_USER = "nobody"  # PostgreSQL refuses to run as root
WHERE = {
    "nginx": "nginx (Debian: sudo apt-get install nginx-light)",
    "redis-server": "Redis (Debian: sudo apt-get install redis-server), or set REDIS_URL",
    "postgres": "PostgreSQL 15 (Debian: sudo apt-get install postgresql-15), or set TRACKER_DB_URL",
}


def binary(name: str) -> str | None:
    """`name` on PATH or in the Debian packages' directories."""
    found = shutil.which(name)
    if found:
        return found
    for directory in (*SBIN_DIRS, *PG_DIRS):
        candidate = Path(directory) / name
        if candidate.exists():
            return str(candidate)
    return None


def missing(env: dict[str, str]) -> list[str]:
    """What replicas need and this machine lacks, each with how to get it."""
    needed = ["nginx"]
    if not env.get("REDIS_URL"):
        needed.append("redis-server")
    if not env.get("TRACKER_DB_URL"):
        needed += ["postgres", "initdb"]
    return sorted({WHERE.get(n, WHERE["postgres"]) for n in needed if not binary(n)})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Topology:
    """Ports of everything the replicas mode runs; nginx listens on the public ones."""

    public_port: int
    action_port: int
    rasa_ports: tuple[int, ...]
    action_ports: tuple[int, ...]


def topology(public_port: int, action_port: int, replicas: int, actions: int) -> Topology:
    return Topology(
        public_port,
        action_port,
        tuple(free_port() for _ in range(replicas)),
        tuple(free_port() for _ in range(actions)),
    )


def lock_store(redis_url: str) -> dict:
    """Rasa's `lock_store` endpoint for a redis://[:password@]host:port/db URL: Redis with
    atomic lock changes (addons/lock_store.py; Rasa's own `redis` type can race)."""
    parts = urlsplit(redis_url)
    return {
        "type": "addons.lock_store.AtomicRedisLockStore",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 6379,
        "db": int(parts.path.strip("/") or 0),
        "password": unquote(parts.password) if parts.password else None,
        "key_prefix": "clinic",
    }


def tracker_store(db_url: str) -> dict:
    """Rasa's SQL `tracker_store` endpoint (cached: addons/tracker_store.py) for a
    postgresql://user:pw@host:port/db URL."""
    parts = urlsplit(db_url)
    return {
        "type": "addons.tracker_store.CachedSQLTrackerStore",
        "dialect": "postgresql",
        "url": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "db": parts.path.strip("/") or "tracker",
        "username": unquote(parts.username or "postgres"),
        "password": unquote(parts.password or ""),
    }


def nginx_conf(top: Topology, host: str, run_dir: Path) -> str:
    """REST and webhooks to the least busy Rasa server, socket.io sticky to one by client
    address (its polling requests must all reach the server holding the session), and the
    action servers behind one loopback address for the Rasa servers."""
    temp = run_dir / "nginx-temp"
    rasa = "\n".join(
        f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=3s;" for p in top.rasa_ports
    )
    actions = "\n".join(
        f"    server 127.0.0.1:{p} max_fails=1 fail_timeout=3s;" for p in top.action_ports
    )
    temps = "\n".join(
        f"  {kind}_temp_path {temp / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""# Written by scripts/scale_out.py for this start (deploy/nginx.conf: a cluster).
worker_processes 1;
pid {run_dir / "nginx.pid"};
error_log {run_dir / "nginx-error.log"} warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temps}
  client_max_body_size 2m;
  map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
  upstream rasa {{
    least_conn;
{rasa}
    keepalive 32;
  }}
  upstream rasa_sticky {{
    ip_hash;
{rasa}
  }}
  upstream actions {{
    least_conn;
{actions}
    keepalive 16;
  }}
  server {{
    listen {host}:{top.public_port};
    location /socket.io/ {{
      proxy_pass http://rasa_sticky;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_read_timeout 3600s;
    }}
    location / {{
      proxy_pass http://rasa;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_read_timeout 300s;
      proxy_next_upstream error timeout http_502 http_503;
    }}
  }}
  server {{
    listen 127.0.0.1:{top.action_port};
    # Rasa sends the whole conversation with every action call (often over nginx's default
    # 16 kB body buffer): kept in memory and streamed on, not spooled to a temporary file
    # first, which made each message about 40 ms slower.
    client_body_buffer_size 4m;
    location / {{
      proxy_request_buffering off;
      proxy_pass http://actions;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 300s;
    }}
  }}
}}
"""


def nginx_command(conf: Path, run_dir: Path) -> list[str]:
    temp = run_dir / "nginx-temp"
    temp.mkdir(parents=True, exist_ok=True)
    temp.chmod(0o777)  # nginx's workers run as nobody when started by root
    return [binary("nginx") or "nginx", "-p", str(run_dir), "-c", str(conf), "-g", "daemon off;"]


def redis_command(port: int) -> list[str]:
    """A private Redis for the lock store only: no persistence needed, loopback only."""
    return [
        binary("redis-server") or "redis-server",
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
    ]  # fmt: skip


def postgres_user() -> str | None:
    """The user PostgreSQL runs as: `nobody` when we are root (it refuses root), else us."""
    return PG_USER if os.geteuid() == 0 else None


def postgres_command(data: Path, port: int) -> list[str]:
    """A private PostgreSQL on loopback, its cluster made on first use in `data`. Run it as
    `postgres_user()`."""
    if not (data / "PG_VERSION").exists():
        data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            user = pwd.getpwnam(PG_USER)
            os.chown(data, user.pw_uid, user.pw_gid)
        made = subprocess.run(
            [binary("initdb") or "initdb", "-D", str(data), "-U", "postgres",
             "--auth=trust", "-E", "UTF8"],
            capture_output=True, text=True, timeout=120, user=postgres_user(), cwd=data,
        )  # fmt: skip
        if made.returncode != 0:
            raise RuntimeError(
                f"initdb could not make a PostgreSQL cluster in {data} (as "
                f"{postgres_user() or 'this user'}; every folder above it must be readable "
                f"by that user; set CLINIC_VAR_DIR to move it): {made.stderr.strip()[-500:]}"
            )
    return [binary("postgres") or "postgres", "-D", str(data), "-p", str(port),
            "-k", str(data), "-c", "listen_addresses=127.0.0.1"]  # fmt: skip


def ensure_databases(admin_url: str, names: list[str], timeout: float = 60) -> None:
    """Create the databases that do not exist yet, once the server accepts connections."""
    import psycopg2

    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = psycopg2.connect(admin_url)
            break
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for name in names:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((host, port)) == 0
