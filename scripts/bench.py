"""`make bench`: how fast and how big the assistant is, next to a stock Rasa bot, on this
machine in one run. It prints numbers and checks targets; it is not a test (exit 0 either way).

    python scripts/bench.py [--only stock,project1,project2] [--replicas 1,2]
                            [--users 20] [--turns 10] [--out reports/bench]

Configurations, one after another, each on free loopback ports:
  stock     `rasa init --no-prompt` in a temporary folder (trains its model), then `rasa run`
  project1  scripts/run.py as `make run` starts it (model already trained)
  project2  the same with RASA_REPLICAS=2 (Rasa servers behind nginx, Redis lock store,
            PostgreSQL tracker store); skipped, with the launcher's reason, when it cannot run
Each is measured over the REST channel: warm start (launch to first 200 answer), fresh
conversations, one 60-turn conversation, N users at once, and the memory of every process.
Results: a table on the terminal and reports/bench/bench.json. Ctrl-C stops everything.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from scripts.bench_load import MESSAGES, run_load
from scripts.bench_procs import (
    Launched,
    NotReady,
    free_port,
    missing_line,
    stop_all,
    wait_for_line,
    wait_ready,
)
from scripts.bench_report import render_processes, render_table, summary_line, verdicts
from scripts.run import QUIET_ENV  # the same quiet children as `make run`

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
RASA = str(Path(PY).with_name("rasa"))
MODEL = ROOT / "models" / "spine-clinic.tar.gz"
READY_TIMEOUT = 300.0  # seconds from launch to the first REST answer
READY_LINE = "The assistant is ready"  # scripts/run.py, once every server answers
#: Taken out of every child's environment (`make run` with no such settings).
UNSET = (
    "DATABASE_URL",
    "REDIS_URL",
    "TRACKER_DB_URL",
    "RASA_HOST",
    "RASA_REPLICAS",
    "ACTION_REPLICAS",
)
TRAIN_TIMEOUT = 1800.0  # seconds for `rasa init` to train the stock model


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated: stock,project1,project2 (default all)")
    parser.add_argument("--replicas", default="1,2", help="project replica counts (default 1,2)")
    parser.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    parser.add_argument("--turns", type=int, default=10, help="turns per user (default 10)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "bench")
    return parser.parse_args(argv)


def chosen_configs(only: str | None, replicas: str) -> list[str]:
    """stock and project<N> for each replica count, in that order, filtered by --only."""
    every = ["stock", *(f"project{int(n)}" for n in replicas.split(",") if n.strip())]
    if not only:
        return every
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    unknown = sorted(set(wanted) - set(every))
    if unknown:
        raise SystemExit(f"unknown configuration(s) {', '.join(unknown)}; choose from {every}")
    return [name for name in every if name in wanted]


def child_env(**extra: str) -> dict[str, str]:
    """The environment of every started process: ours, quietened, plus `extra`."""
    env = {**os.environ, **QUIET_ENV}
    # Bookings and trackers land in the temporary folder (or the stores the launcher starts
    # itself), on loopback, with the replicas asked for.
    for name in UNSET:
        env.pop(name, None)
    env.update(extra)
    return env


def build_stock(tmp: Path) -> Path:
    """`rasa init --no-prompt` in tmp/stock (it trains the stock model); that folder."""
    folder = tmp / "stock"
    folder.mkdir()
    print("Building the stock Rasa bot (rasa init trains its model) ...", flush=True)
    init = Launched(
        [RASA, "init", "--no-prompt", "--init-dir", str(folder)],
        tmp,
        child_env(),
        tmp / "stock-init.log",
    )
    try:
        code = init.proc.wait(timeout=TRAIN_TIMEOUT)
    finally:
        init.stop()
    if code or not list((folder / "models").glob("*.tar.gz")):
        raise NotReady(f"rasa init failed (exit code {code})", init.output(15))
    return folder


def start_stock(tmp: Path) -> tuple[Launched, str]:
    """`rasa run` of the stock bot on a free port; the server and its base URL."""
    folder = build_stock(tmp)
    port = free_port()
    cmd = [RASA, "run", "--enable-api", "--interface", "127.0.0.1", "--port", str(port)]
    cmd += ["--model", str(folder / "models")]
    return Launched(cmd, folder, child_env(), tmp / "stock.log"), f"http://127.0.0.1:{port}"


def start_project(tmp: Path, replicas: int) -> tuple[Launched, str]:
    """scripts/run.py as `make run` starts it, own token and databases, free ports."""
    folder = tmp / f"project{replicas}"
    folder.mkdir()
    port, action_port, web_port = free_port(), free_port(), free_port()
    extra = {
        "RASA_AUTH_TOKEN": secrets.token_urlsafe(24),
        "TRACKER_DB_PATH": str(folder / "tracker.db"),
        "CLINIC_DB_PATH": str(folder / "clinic.db"),
        # Its generated configuration and private PostgreSQL cluster, away from the var/ of
        # a `make run` that may be running (so project2's warm start includes an initdb).
        "CLINIC_VAR_DIR": str(folder / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    if replicas > 1:
        extra["RASA_REPLICAS"] = str(replicas)
    ports = ["--port", port, "--action-port", action_port, "--web-port", web_port]
    cmd = [PY, "scripts/run.py", *map(str, ports)]
    launched = Launched(cmd, ROOT, child_env(**extra), folder / "run.log")
    return launched, f"http://127.0.0.1:{port}"


def measure(config: str, tmp: Path, users: int, turns: int) -> dict:
    """Start one configuration, measure it, stop it; its result (status measured, skipped
    when the launcher cannot run it, failed on any other error)."""
    replicas = 0 if config == "stock" else int(config.removeprefix("project"))
    result: dict = {"config": config, "status": "failed", "reason": None}
    server = None
    try:
        if replicas and not MODEL.exists():
            raise NotReady(f"no trained model at {MODEL} (make model)")
        print(f"{config}: starting ...", flush=True)
        server, base = start_stock(tmp) if config == "stock" else start_project(tmp, replicas)
        gave_up = missing_line if replicas > 1 else (lambda _log: None)
        result["warm_start_s"] = wait_ready(server, base, READY_TIMEOUT, gave_up)
        print(f"  {config}: ready after {result['warm_start_s']:.1f} s; measuring ...", flush=True)
        if replicas:
            wait_for_line(server, READY_LINE, READY_TIMEOUT)
        if replicas > 1:
            check_replicas(server, replicas)
        peak: dict[int, dict] = {}
        load = asyncio.run(run_load(base, users, turns, lambda: sample(server, peak)))
        result.update(status="measured", load=load, **memory(list(peak.values())))
        result["load_average"] = os.getloadavg()  # other work on the machine skews the numbers
    except NotReady as err:
        status = "skipped" if replicas > 1 else "failed"
        result.update(status=status, reason=str(err), log_tail=err.tail)
    except Exception as err:  # reported; the next configuration still runs
        result["reason"] = f"{type(err).__name__}: {err}"
    finally:
        if server is not None:
            server.stop()
    if result["status"] != "measured":
        print(f"  {result['status']}: {result['reason']}", flush=True)
    return result


def check_replicas(server: Launched, replicas: int) -> None:
    """NotReady unless the launcher really started `replicas` Rasa servers."""
    found = sum(p["name"] == "rasa server" for p in server.processes())
    if found < replicas:
        told = missing_line(server.output())
        why = f"the launcher started {found} Rasa server(s), not {replicas}"
        why += f": {told}" if told else f" (RASA_REPLICAS={replicas} not supported?)"
        raise NotReady(why, server.output(15))


def sample(server: Launched, peak: dict[int, dict]) -> None:
    """Read every process's memory; keep per pid the reading with the largest RSS."""
    for proc in server.processes():
        if proc["rss_mb"] >= peak.get(proc["pid"], {}).get("rss_mb", -1):
            peak[proc["pid"]] = proc


def memory(processes: list[dict]) -> dict:
    """processes, largest_rasa_rss_mb and total_rss_mb for a result."""
    rasa = [p["rss_mb"] for p in processes if p["name"] == "rasa server"]
    return {
        "processes": sorted(processes, key=lambda p: -p["rss_mb"]),
        "largest_rasa_rss_mb": max(rasa) if rasa else None,
        "total_rss_mb": sum(p["rss_mb"] for p in processes),
    }


def git_commit() -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return done.stdout.strip() or None


def machine() -> dict:
    """Where and when the numbers were taken."""
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "rasa": metadata.version("rasa"),
        "platform": platform.platform(),
    }


def write_json(out: Path, report: dict) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "bench.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    return path


def _interrupt(signum, frame) -> None:
    """Ctrl-C, SIGTERM and SIGHUP end the run through the clean-up."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configs = chosen_configs(args.only, args.replicas)
    # SIGINT too: a shell starting us in the background makes it ignored otherwise.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _interrupt)
    report = {**machine(), "users": args.users, "turns": args.turns, "messages": len(MESSAGES)}
    results: dict[str, dict] = {}
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    tmp.chmod(0o755)  # PostgreSQL runs as another user (scripts/scale_out.py) inside it
    interrupted = False
    try:
        for config in configs:
            results[config] = measure(config, tmp, args.users, args.turns)
    except KeyboardInterrupt:
        interrupted = True
        print("\nInterrupted; stopping what was started ...", flush=True)
    finally:
        stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
    checked = verdicts(results)
    report.update(
        results=results,
        verdicts=[v.as_json() for v in checked],
        interrupted=interrupted,
    )
    # An interrupted run with nothing measured keeps the previous report.
    path = write_json(args.out, report) if results or not interrupted else None
    print("\n" + render_table(results, args.users, args.turns))
    print("\n" + render_processes(results))
    print(f"\nWritten to {path}" if path else "\nNothing measured; no report written.")
    print(summary_line(results, checked, args.users, args.turns))
    return 130 if interrupted else 0


if __name__ == "__main__":
    sys.exit(main())
