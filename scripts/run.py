"""Run the assistant: action server, Rasa server and the clinic page (or a terminal chat).

    python scripts/run.py            page on http://localhost:8080, REST and socket.io on
                                     http://localhost:5005, until Ctrl-C
    python scripts/run.py --shell    chat in this terminal

The Rasa HTTP API is on, but only with a token: RASA_AUTH_TOKEN, or one generated once and
kept in var/rasa-auth-token (never in the repository). Conversations are kept in an SQLite
tracker store (TRACKER_DB_PATH, default var/tracker.db), so they survive a restart.
Messaging channels in credentials.yml are turned on when their environment variables are set.

`make run` / `make shell` call this after building what is missing. It never reads standard
input in server mode, so it also runs detached (stdin closed, under nohup or a service
manager). Servers' own logs go to logs/ so the terminal shows only what a person needs;
Ctrl-C or SIGTERM stops everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RASA = str(Path(PY).with_name("rasa"))
MODEL = ROOT / "models" / "spine-clinic.tar.gz"
VAR = ROOT / "var"
ENV_REF = re.compile(r"\$\{(\w+)\}")
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore",
}


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


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


def runtime_config(action_port: int) -> tuple[Path, Path, list[str]]:
    """var/run/endpoints.yml and credentials.yml for this start: the chosen action port,
    the tracker database path, and only the channels that are configured."""
    run_dir = VAR / "run"
    run_dir.mkdir(parents=True, exist_ok=True)
    endpoints = yaml.safe_load((ROOT / "endpoints.yml").read_text())
    endpoints["action_endpoint"]["url"] = f"http://127.0.0.1:{action_port}/webhook"
    tracker_db = Path(os.environ.get("TRACKER_DB_PATH") or VAR / "tracker.db").resolve()
    tracker_db.parent.mkdir(parents=True, exist_ok=True)
    endpoints["tracker_store"]["db"] = str(tracker_db)
    credentials, off = channels_on(yaml.safe_load((ROOT / "credentials.yml").read_text()))
    paths = run_dir / "endpoints.yml", run_dir / "credentials.yml"
    paths[0].write_text(yaml.safe_dump(endpoints, sort_keys=False))
    paths[1].write_text(yaml.safe_dump(credentials, sort_keys=False))
    return paths[0], paths[1], off


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


class Services:
    """Child processes, each in its own process group so that stopping takes them whole."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str, cmd: list[str], foreground: bool = False) -> subprocess.Popen:
        env = {**os.environ, **QUIET_ENV}
        if foreground:  # the terminal keeps stdin/stdout; warnings on stderr go to the log
            with open(self.log_dir / f"{name}.log", "ab") as log:
                proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=log)
        else:
            with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its copy
                proc = subprocess.Popen(
                    cmd,
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        self.procs[name] = proc
        return proc

    def dead(self) -> str | None:
        return next((n for n, p in self.procs.items() if p.poll() is not None), None)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    proc.terminate()
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()

    def tail(self, name: str, lines: int = 25) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until(check, services: Services, timeout: float) -> str | None:
    """Poll until `check()` holds; return the name of a service that died meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = services.dead()
        if dead:
            return dead
        if check():
            return None
        time.sleep(0.5)
    return "timeout"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shell", action="store_true", help="chat in this terminal")
    parser.add_argument("--host", default=os.environ.get("RASA_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", "5005")))
    parser.add_argument(
        "--action-port", type=int, default=int(os.environ.get("ACTION_PORT", "5055"))
    )
    parser.add_argument("--web-port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    parser.add_argument("--timeout", type=float, default=300, help="start-up limit, seconds")
    args = parser.parse_args(argv)

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

    log_dir = ROOT / "logs"
    log_dir.mkdir(exist_ok=True)
    services = Services(log_dir)
    endpoints, credentials, channels_off = runtime_config(args.action_port)

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
        print("Starting the action server ...", flush=True)
        action_cmd = [PY, "scripts/action_server.py", "--port", str(args.action_port)]
        services.start("actions", action_cmd)
        health = f"http://127.0.0.1:{args.action_port}/health"
        failed = wait_until(lambda: http_ok(health), services, 60)
        if failed:
            print(
                f"The action server did not start ({failed}). Last lines of logs/actions.log:\n"
                + services.tail("actions"),
                file=sys.stderr,
            )
            return 1
        if args.shell:
            print("Loading the model (about 20 s) ... type /stop to end the chat.", flush=True)
            shell = services.start(
                "shell",
                [RASA, "shell", "--model", str(MODEL), "--endpoints", str(endpoints), "--quiet"],
                foreground=True,
            )
            code = shell.wait()
            if code:
                print(
                    "The chat ended with an error. Last lines of logs/shell.log:\n"
                    + services.tail("shell"),
                    file=sys.stderr,
                )
            return code
        print("Starting the Rasa server (loading the model takes about 20 s) ...", flush=True)
        services.start(
            "rasa",
            [
                PY,
                str(ROOT / "scripts" / "rasa_server.py"),
                "run",
                "--model",
                str(MODEL),
                "--endpoints",
                str(endpoints),
                "--credentials",
                str(credentials),
                "--interface",
                args.host,
                "--port",
                str(args.port),
                "--enable-api",
                "--auth-token",
                auth_token(),
                "--cors",
                *(f"http://{h}:{args.web_port}" for h in ("localhost", "127.0.0.1")),
            ],
        )
        shown_host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host
        base = f"http://{shown_host}:{args.port}"
        page = f"http://localhost:{args.web_port}"
        services.start(
            "web",
            [PY, "scripts/web.py", "--port", str(args.web_port), "--socket-url", base],
        )
        failed = wait_until(
            lambda: http_ok(f"{base}/webhooks/rest/") and http_ok(f"{page}/health"),
            services,
            args.timeout,
        )
        if failed:
            name = failed if failed in services.procs else "rasa"
            print(
                f"The {name} server did not start ({failed}). Last lines of logs/{name}.log:\n"
                + services.tail(name),
                file=sys.stderr,
            )
            return 1
        off = ", ".join(channels_off) or "none"
        print(
            "\nThe assistant is ready.\n"
            f"Open {page} to chat with it on the example clinic page.\n"
            f"  Messaging channels not configured (their variables are unset): {off}\n"
            f"  HTTP API: {base}, only with ?token= (var/rasa-auth-token or RASA_AUTH_TOKEN)\n"
            f"  Talk to it over REST:\n"
            f"    curl -s -X POST {base}/webhooks/rest/webhook \\\n"
            "         -H 'Content-Type: application/json' \\\n"
            '         -d \'{"sender": "me", "message": "what causes sciatica?"}\'\n'
            "  Chat in a terminal instead: make shell\n"
            "  Logs: logs/rasa.log, logs/actions.log and logs/web.log\n"
            "Press Ctrl-C to stop.",
            flush=True,
        )
        while True:
            dead = services.dead()
            if dead:
                print(
                    f"The {dead} server stopped unexpectedly. Last lines of logs/{dead}.log:\n"
                    + services.tail(dead),
                    file=sys.stderr,
                )
                return 1
            time.sleep(1)
    except KeyboardInterrupt:
        print("\nStopping ...", flush=True)
        return 0
    finally:
        services.stop()
        print("Stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
