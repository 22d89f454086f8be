"""Run the assistant: action server, Rasa server and the clinic page (or a terminal chat).

    python scripts/run.py            page on http://localhost:8080, REST and socket.io on
                                     http://localhost:5005, until Ctrl-C
    python scripts/run.py --shell    chat in this terminal
    RASA_REPLICAS=2 python scripts/run.py
                                     two Rasa servers and two action servers behind nginx,
                                     with Redis and PostgreSQL (scripts/scale_out.py)

The Rasa HTTP API is on, but only with a token: RASA_AUTH_TOKEN, or one generated once and
kept in var/rasa-auth-token (never in the repository). Conversations are kept in an SQLite
tracker store (TRACKER_DB_PATH, default var/tracker.db), so they survive a restart.
Messaging channels in credentials.yml are turned on when their environment variables are set.
The staff console is on the page's server at /staff/: on the first start (no staff account
yet) an `admin` account is made, with STAFF_ADMIN_PASSWORD as its password when set, else a
generated one written to var/staff-admin-password (mode 600); only that path is printed.

`make run` / `make shell` call this after building what is missing. It never reads standard
input in server mode, so it also runs detached (stdin closed, under nohup or a service
manager). Servers' own logs go to logs/ so the terminal shows only what a person needs.
A server that crashes later is restarted with a growing pause (scripts/supervise.py) while
the others, and the page, stay up. Ctrl-C or SIGTERM stops everything it started.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

from clinic.paths import tracker_db_path
from scripts import scale_out
from scripts.supervise import Services, wait_until

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RASA = str(Path(PY).with_name("rasa"))
MODEL = ROOT / "models" / "spine-clinic.tar.gz"
#: Run-time files (token, tracker database, generated configs, private PostgreSQL data).
VAR = Path(os.environ.get("CLINIC_VAR_DIR") or ROOT / "var").resolve()
ENV_REF = re.compile(r"\$\{(\w+)\}")
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore",
}


def port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def token_hint() -> str:
    if os.environ.get("RASA_AUTH_TOKEN"):
        return "RASA_AUTH_TOKEN"
    path = VAR / "rasa-auth-token"
    return str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)


def auth_token() -> str:
    """RASA_AUTH_TOKEN, else a random token made once and kept (mode 600) in var/."""
    token = os.environ.get("RASA_AUTH_TOKEN")
    if token:
        return token
    path = VAR / "rasa-auth-token"
    if not path.exists():
        VAR.mkdir(exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def channels_on(credentials: dict) -> tuple[dict, list[str]]:
    """The channels whose ${VARIABLES} are all set (with the others named, to say so)."""
    on, off = {}, []
    for name, settings in credentials.items():
        refs = ENV_REF.findall(yaml.safe_dump(settings or {}))
        if all(os.environ.get(ref) for ref in refs):
            on[name] = settings
        else:
            off.append(name)
    return on, off


def runtime_config(action_port: int, stores: dict | None = None) -> tuple[Path, Path, list[str]]:
    """var/run/endpoints.yml and credentials.yml for this start: the action port, the
    tracker store (SQLite at TRACKER_DB_PATH, default var/tracker.db, unless `stores` gives
    PostgreSQL and a Redis lock store), and only the channels that are configured."""
    run_dir = VAR / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    if stores:
        endpoints.update(stores)
    else:
        tracker_db = tracker_db_path()
        tracker_db.parent.mkdir(parents=True, exist_ok=True)
        endpoints["tracker_store"]["db"] = str(tracker_db)
    credentials, off = channels_on(yaml.safe_load((ROOT / "credentials.yml").read_text()))
    paths = run_dir / "endpoints.yml", run_dir / "credentials.yml"
    paths[0].write_text(yaml.safe_dump(endpoints, sort_keys=False))
    paths[0].chmod(0o600)  # it may hold the databases' passwords
    paths[1].write_text(yaml.safe_dump(credentials, sort_keys=False))
    return paths[0], paths[1], off


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def child_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **QUIET_ENV, **extra}


def action_command(port: int) -> list[str]:
    return [PY, "scripts/action_server.py", "--port", str(port)]


def rasa_command(model: Path, endpoints: Path, credentials: Path, host: str, port: int,
                 web_port: int) -> list[str]:  # fmt: skip
    return [
        PY,
        str(ROOT / "scripts" / "rasa_server.py"),
        "run",
        "--model", str(model),
        "--endpoints", str(endpoints),
        "--credentials", str(credentials),
        "--interface", host,
        "--port", str(port),
        "--enable-api",
        f"--auth-token={auth_token()}",  # one word: a token may start with "-"
        "--cors", *(f"http://{h}:{web_port}" for h in ("localhost", "127.0.0.1")),
    ]  # fmt: skip


def start_stores(services: Services) -> tuple[dict, dict[str, str], str]:
    """Redis and PostgreSQL for replicas: from REDIS_URL / TRACKER_DB_URL, or private ones
    started here. Returns Rasa's store endpoints, the action servers' environment and the
    Redis URL (the Rasa servers' messaging connectors share their seen event ids there)."""
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        port = scale_out.free_port()
        services.start("redis", scale_out.redis_command(port), child_env())
        redis_url = f"redis://127.0.0.1:{port}/0"
    tracker_url, actions_env = os.environ.get("TRACKER_DB_URL"), {}
    if not tracker_url:
        port = scale_out.free_port()
        command = scale_out.postgres_command(VAR / "pg", port)
        services.start("postgres", command, child_env(), user=scale_out.postgres_user())
        admin = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        scale_out.ensure_databases(admin, ["tracker", "clinic"])
        tracker_url = f"postgresql://postgres@127.0.0.1:{port}/tracker"
        if not os.environ.get("DATABASE_URL"):  # bookings in the same private server
            actions_env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{port}/clinic"
    actions_env["TRACKER_DB_URL"] = tracker_url  # for the retention worker
    stores = {
        "tracker_store": scale_out.tracker_store(tracker_url),
        "lock_store": scale_out.lock_store(redis_url),
    }
    return stores, actions_env, redis_url


RasaServer = tuple[str, list[str], int, dict[str, str]]  # name, command, port, environment


def start_servers(
    args: argparse.Namespace, services: Services
) -> tuple[list[RasaServer], list[str], dict[str, str]]:
    """The action server(s), Rasa server(s) and, with replicas, nginx and the stores.
    Returns the Rasa servers' names, the channels left off, and the databases' environment
    (the bookings and the tracker store) for the page's server and its staff console."""
    if args.replicas == 1:
        endpoints, credentials, off = runtime_config(args.action_port)
        # The tracker store it may purge of idle conversations (actions/records/retention.py).
        tracker = {"TRACKER_DB_PATH": str(tracker_db_path())}
        services.start("actions", action_command(args.action_port), child_env(**tracker))
        rasa = rasa_command(MODEL, endpoints, credentials, args.host, args.port, args.web_port)
        return [("rasa", rasa, args.port, {})], off, tracker
    top = scale_out.topology(args.port, args.action_port, args.replicas, args.action_replicas)
    stores, actions_env, redis_url = start_stores(services)
    endpoints, credentials, off = runtime_config(args.action_port, stores)
    for i, port in enumerate(top.action_ports, start=1):
        services.start(f"actions-{i}", action_command(port), child_env(**actions_env))
    conf = VAR / "run" / "nginx.conf"
    conf.write_text(scale_out.nginx_conf(top, args.host, VAR / "run"))
    services.start("nginx", scale_out.nginx_command(conf, VAR / "run"), child_env())
    rasas = [
        (
            f"rasa-{i}",
            rasa_command(MODEL, endpoints, credentials, "127.0.0.1", port, args.web_port),
            port,
            {"REDIS_URL": redis_url},  # a platform's retry may reach the other server
        )
        for i, port in enumerate(top.rasa_ports, start=1)
    ]
    return rasas, off, actions_env


def staff_admin(env: dict[str, str]) -> str:
    """Make the staff console's first account if there is none (scripts/staff.py
    ensure-admin, with the databases the page's server will use); the line to print, which
    names where the password is, never the password."""
    try:
        done = subprocess.run(
            [PY, "scripts/staff.py", "ensure-admin"],
            cwd=ROOT,
            env=child_env(**env),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return "  Staff console: no admin account made (the database did not answer)"
    if done.returncode:
        reason = (done.stderr.strip().splitlines() or ["see scripts/staff.py ensure-admin"])[-1]
        return f"  Staff console: no admin account made ({reason})"
    return "  " + (done.stdout.strip().splitlines() or ["Staff console"])[-1]


def ready_message(page: str, base: str, off: list[str], args: argparse.Namespace) -> str:
    scale = (
        f"  {args.replicas} Rasa servers and {args.action_replicas} action servers behind "
        "nginx, Redis lock store, PostgreSQL tracker store\n"
        if args.replicas > 1
        else ""
    )
    return (
        "\nThe assistant is ready.\n"
        f"Open {page} to chat with it on the example clinic page.\n"
        f"{scale}"
        f"  Staff console: {page}/staff/ (staff accounts: scripts/staff.py users)\n"
        "  Messaging channels not configured (their variables are unset): "
        f"{', '.join(off) or 'none'}\n"
        f"  HTTP API: {base}, only with ?token= ({token_hint()})\n"
        f"  Talk to it over REST:\n"
        f"    curl -s -X POST {base}/webhooks/rest/webhook \\\n"
        "         -H 'Content-Type: application/json' \\\n"
        '         -d \'{"sender": "me", "message": "what causes sciatica?"}\'\n'
        "  Chat in a terminal instead: make shell\n"
        "  Logs: logs/*.log (one per server)\n"
        "Press Ctrl-C to stop."
    )


def report_failure(services: Services, failed: str, what: str) -> None:
    name = failed if failed in services.children else what
    print(
        f"The {name} server did not start ({failed}). Last lines of logs/{name}.log:\n"
        + services.tail(name),
        file=sys.stderr,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--shell", action="store_true", help="chat in this terminal")
    parser.add_argument("--host", default=os.environ.get("RASA_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", "5005")))
    parser.add_argument(
        "--action-port", type=int, default=int(os.environ.get("ACTION_PORT", "5055"))
    )
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    parser.add_argument(
        "--replicas",
        type=int,
        default=int(os.environ.get("RASA_REPLICAS", "1")),
        help="Rasa servers (RASA_REPLICAS); more than 1 runs them behind nginx",
    )
    parser.add_argument(
        "--action-replicas",
        type=int,
        default=int(os.environ.get("ACTION_REPLICAS", "0")),
        help="action servers with replicas (ACTION_REPLICAS, default: as many as Rasa's)",
    )
    parser.add_argument("--timeout", type=float, default=300, help="start-up limit, seconds")
    args = parser.parse_args(argv)
    args.replicas = max(1, args.replicas)
    args.action_replicas = max(1, args.action_replicas or args.replicas)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not MODEL.exists():
        print(f"No trained model at {MODEL}; run `make run` (it trains one).", file=sys.stderr)
        return 1
    busy = [
        p
        for h, p in (
            (args.host, args.port),
            ("127.0.0.1", args.action_port),
            ("127.0.0.1", args.web_port),
        )
        if (p == args.action_port or not args.shell) and not port_free(h, p)
    ]
    if busy:
        print(
            f"Port(s) {', '.join(map(str, busy))} already in use; is the assistant already "
            "running? Stop it, or choose others (RASA_PORT, ACTION_PORT, WEB_PORT).",
            file=sys.stderr,
        )
        return 1
    if args.replicas > 1 and (lacking := scale_out.missing(dict(os.environ))):
        print(
            f"RASA_REPLICAS={args.replicas} needs what this machine lacks: "
            + "; ".join(lacking)
            + ". Install it, or run one server with `make run`.",
            file=sys.stderr,
        )
        return 1

    log_dir = Path(os.environ.get("CLINIC_LOG_DIR") or ROOT / "logs")
    log_dir.mkdir(exist_ok=True)
    services = Services(log_dir, ROOT, say=lambda text: print(text, file=sys.stderr, flush=True))

    def on_signal(signum, frame):
        # Stop once: further signals while stopping must not interrupt the clean-up.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        raise KeyboardInterrupt

    # Install handlers explicitly: a shell starting us in the background makes SIGINT ignored,
    # and Python then never raises KeyboardInterrupt.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    try:
        if args.shell:
            return run_shell(args, services)
        # The action server and the Rasa server start side by side: Rasa needs the action
        # server only when the first message comes.
        print("Starting the servers (loading the model takes about 20 s) ...", flush=True)
        try:
            rasas, channels_off, databases = start_servers(args, services)
        except (RuntimeError, OSError) as error:
            print(f"Could not start: {error}", file=sys.stderr)
            return 1
        shown_host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host
        base = f"http://{shown_host}:{args.port}"
        page = f"http://localhost:{args.web_port}"
        for index, (name, cmd, port, env) in enumerate(rasas):
            services.start(name, cmd, child_env(**env))
            if index == 0 and len(rasas) > 1:  # the first makes the tracker tables alone
                own = f"http://127.0.0.1:{port}/webhooks/rest/"
                failed = wait_until(functools.partial(http_ok, own), services, args.timeout)
                if failed:
                    report_failure(services, failed, name)
                    return 1
        print(staff_admin(databases), flush=True)
        web_cmd = [PY, "scripts/web.py", "--port", str(args.web_port), "--socket-url", base]
        services.start("web", web_cmd, child_env(**databases))
        action_health = f"http://127.0.0.1:{args.action_port}/health"
        failed = wait_until(lambda: http_ok(action_health), services, 120)
        if failed:
            report_failure(services, failed, "actions" if args.replicas == 1 else "actions-1")
            return 1
        rasa_urls = [f"http://127.0.0.1:{port}/webhooks/rest/" for _, _, port, _ in rasas]
        failed = wait_until(
            lambda: all(map(http_ok, [*rasa_urls, f"{base}/webhooks/rest/", f"{page}/health"])),
            services,
            args.timeout,
        )
        if failed:
            report_failure(services, failed, rasas[0][0])
            return 1
        print(ready_message(page, base, channels_off, args), flush=True)
        while True:
            services.supervise()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        services.stop()
        print("Stopped.", flush=True)


def run_shell(args: argparse.Namespace, services: Services) -> int:
    """`make shell`: the action server, then `rasa shell` in this terminal."""
    endpoints, _, _ = runtime_config(args.action_port)
    print("Starting the action server ...", flush=True)
    services.start("actions", action_command(args.action_port), child_env())
    health = f"http://127.0.0.1:{args.action_port}/health"
    failed = wait_until(lambda: http_ok(health), services, 60)
    if failed:
        report_failure(services, failed, "actions")
        return 1
    print("Loading the model (about 20 s) ... type /stop to end the chat.", flush=True)
    shell = services.foreground(
        "shell",
        [RASA, "shell", "--model", str(MODEL), "--endpoints", str(endpoints), "--quiet"],
        child_env(),
    )
    code = shell.wait()
    if code:
        print(
            "The chat ended with an error. Last lines of logs/shell.log:\n"
            + services.tail("shell"),
            file=sys.stderr,
        )
    return code


if __name__ == "__main__":
    sys.exit(main())
