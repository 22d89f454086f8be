"""`make eval`: play every multi-turn conversation (tests/conversations/) through the trained
model and the real action server, and report the share handled as expected.

    python scripts/multiturn_report.py [--model MODEL] [--out reports/multiturn]

A conversation counts as handled when every one of its turns passes the checks of
scripts/multiturn.py (the same checks tests/dialogue/test_multiturn.py asserts). Writes report.json
(every turn: what was said, what ran, what was wrong) and summary.md to --out, and prints
the figures. Bookings go to a throwaway SQLite file, never the developer's own.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from scripts.multiturn import (  # noqa: E402  (after the environment above)
    CONVERSATIONS,
    HELD_OUT,
    load,
    player,
    report_line,
    run,
    slug,
)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_action_server(db: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "SANIC_HOST": "127.0.0.1", "CLINIC_DB_PATH": str(db)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "scripts/action_server.py", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                return proc, f"http://127.0.0.1:{port}/webhook"
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("the action server did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=str(ROOT / "models" / "spine-clinic.tar.gz"))
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "multiturn")
    parser.add_argument(
        "--conversations",
        type=Path,
        action="append",
        help="a directory of conversation files (default: tests/conversations and the "
        "held-out tests/conversations_heldout, each reported on its own)",
    )
    args = parser.parse_args(argv)
    import rasa.utils.log_utils as log_utils

    log_utils.configure_structlog(logging.WARNING)
    logging.disable(logging.WARNING)
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    sets = args.conversations or [CONVERSATIONS, HELD_OUT]
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = start_action_server(Path(tmp) / "clinic.db")
        try:
            agent = Agent.load(args.model, action_endpoint=EndpointConfig(url=url))
            results = {d.name: play(agent, load(d)) for d in sets if d.is_dir()}
        finally:
            proc.terminate()
            proc.wait(timeout=20)
    summary = ["# Multi-turn conversations", ""]
    for name, (rows, lines) in results.items():
        summary += section(name, rows, lines)
    args.out.mkdir(parents=True, exist_ok=True)
    rows_by_set = {name: rows for name, (rows, _) in results.items()}
    (args.out / "report.json").write_text(json.dumps(rows_by_set, indent=2, ensure_ascii=False))
    (args.out / "summary.md").write_text("\n".join(summary) + "\n")
    print("\n".join(summary))
    return 0


def play(agent, conversations) -> tuple[list[dict], list[str]]:
    """Every conversation in its own session; the rows of the report and one line each."""
    rows, lines = [], []
    for conv in conversations:
        send = player(agent, f"eval-{conv.file}-{slug(conv.name)}")
        results = run(conv, send)
        lines.append(report_line(conv, results))
        rows.append(
            {
                "file": conv.file,
                "name": conv.name,
                "handled": all(r.ok for r in results),
                "turns": [
                    {
                        "user": r.user,
                        "expect": r.expect,
                        "ran": r.actions,
                        "problems": r.problems,
                        "replies": r.replies,
                    }
                    for r in results
                ],
            }
        )
    return rows, lines


def section(name: str, rows: list[dict], lines: list[str]) -> list[str]:
    """The Markdown summary of one set of conversations."""
    handled = sum(r["handled"] for r in rows)
    turns = [t for r in rows for t in r["turns"]]
    turns_ok = sum(not t["problems"] for t in turns)
    by_file = Counter(r["file"] for r in rows)
    ok_by_file = Counter(r["file"] for r in rows if r["handled"])
    return [
        f"## {name}",
        "",
        f"- conversations handled: **{handled}/{len(rows)} ({handled / len(rows):.1%})**",
        f"- turns handled: {turns_ok}/{len(turns)} ({turns_ok / len(turns):.1%})",
        "",
        "| file | handled |",
        "|---|---|",
        *(f"| {f} | {ok_by_file[f]}/{n} |" for f, n in sorted(by_file.items())),
        "",
        "```",
        *lines,
        "```",
        "",
    ]


if __name__ == "__main__":
    sys.exit(main())
