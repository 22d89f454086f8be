"""The process half of `make bench` (scripts/bench.py): starting servers in their own
sessions, waiting for their first REST answer, reading every process's memory from /proc,
and stopping everything that was started, on errors and Ctrl-C too.

A process belongs to a started server when it descends from it (parent links in
/proc/<pid>/stat) or when it was orphaned on the way (a daemon such as PostgreSQL's
postmaster is re-parented to PID 1) and carries the run's BENCH_RUN marker in its
environment; only such orphans, started after the server, are looked at.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

PROC = Path("/proc")
MARKER = "BENCH_RUN"
#: (what the command line contains, the name the report gives the process), first match wins.
LABELS: tuple[tuple[str, str], ...] = (
    ("runuser ", "runuser"),  # scripts/scale_out.py runs PostgreSQL through it as root
    ("action_server.py", "action server"),
    ("rasa_sdk", "action server"),
    ("rasa run actions", "action server"),
    ("rasa_server.py", "rasa server"),
    ("rasa run", "rasa server"),
    ("scripts/run.py", "launcher"),
    ("scripts/web.py", "web"),
    ("nginx", "nginx"),
    ("redis-server", "redis"),
    ("postgres", "postgres"),
    ("postmaster", "postgres"),
)


class NotReady(RuntimeError):
    """The server exited, gave up or timed out before answering: why, in one line, and the
    last lines of its output."""

    def __init__(self, reason: str, tail: str = "") -> None:
        super().__init__(reason)
        self.tail = tail


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_status(text: str) -> dict[str, int]:
    """VmRSS and VmHWM (peak) in kB from a /proc/<pid>/status text (0 when absent, as for
    a kernel thread or a zombie)."""
    found = dict.fromkeys(("VmRSS", "VmHWM"), 0)
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in found and value.split():
            found[key] = int(value.split()[0])
    return found


def parse_stat(text: str) -> tuple[int, int]:
    """(parent pid, start time in clock ticks since boot) from a /proc/<pid>/stat text; the
    command name in parentheses may itself hold spaces and parentheses."""
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), int(fields[19])


def label(argv: list[str], comm: str) -> str:
    """The report's name for a process: rasa server, action server, web, nginx, ..."""
    words = [Path(a).name if i == 0 or a.endswith("/rasa") else a for i, a in enumerate(argv)]
    line = " ".join(argv) + " " + " ".join(words)
    return next((name for needle, name in LABELS if needle in line), comm or "?")


def _read(path: Path, binary: bool = False) -> str | bytes | None:
    try:
        return path.read_bytes() if binary else path.read_text(errors="replace")
    except OSError:  # the process ended meanwhile, or is not ours to read
        return None


def _stats() -> dict[int, tuple[int, int]]:
    """(parent, start time) of every process."""
    out = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and (text := _read(entry / "stat")):
            with contextlib.suppress(ValueError, IndexError):
                out[int(entry.name)] = parse_stat(str(text))
    return out


def descendants(root: int, parents: dict[int, int]) -> list[int]:
    """root and every process below it, given pid -> parent pid."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _marked(pid: int, marker: bytes) -> bool:
    environ = _read(PROC / str(pid) / "environ", binary=True)
    return isinstance(environ, bytes) and marker in environ.split(b"\0")


def describe(pid: int) -> dict | None:
    """pid, name, command line and memory (MB) of one process; None once it has ended."""
    status = _read(PROC / str(pid) / "status")
    raw = _read(PROC / str(pid) / "cmdline", binary=True)
    if status is None or raw is None:
        return None
    data = raw if isinstance(raw, bytes) else raw.encode()
    argv = [a.decode(errors="replace") for a in data.split(b"\0") if a]
    comm = str(_read(PROC / str(pid) / "comm") or "").strip()
    memory = parse_status(str(status))
    return {
        "pid": pid,
        "name": label(argv, comm),
        "cmd": " ".join(argv)[:200],
        "rss_mb": memory["VmRSS"] / 1024,
        "peak_mb": memory["VmHWM"] / 1024,
    }


class Launched:
    """A command started in a session of its own, output to `log`, stopped with its tree."""

    running: ClassVar[list[Launched]] = []  # everything not yet stopped, for stop_all()

    def __init__(self, cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.marker = f"{MARKER}={uuid.uuid4().hex}"
        env = {**env, MARKER: self.marker.partition("=")[2]}
        with log.open("ab") as out:
            self.started = time.perf_counter()
            self.proc = subprocess.Popen(
                cmd,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.known: dict[int, int] = {}  # pid -> start time of every process seen in the tree
        Launched.running.append(self)
        self.tree()

    def tree(self) -> list[int]:
        """The live processes of this server (see the module docstring)."""
        stats = _stats()
        if self.proc.pid not in stats:
            return []
        since = stats[self.proc.pid][1]
        pids = descendants(self.proc.pid, {p: s[0] for p, s in stats.items()})
        marker = self.marker.encode()
        orphans = [
            p
            for p, (parent, start) in stats.items()
            if parent == 1 and start >= since and p not in pids and _marked(p, marker)
        ]
        for pid in (*pids, *orphans):
            self.known[pid] = stats[pid][1]
        return [*pids, *orphans]

    def processes(self) -> list[dict]:
        """describe() of every live process of this server."""
        return [d for pid in self.tree() if (d := describe(pid))]

    def output(self, lines: int = 0) -> str:
        """The log, or its last `lines` lines."""
        text = str(_read(self.log) or "")
        return "\n".join(text.splitlines()[-lines:]) if lines else text

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> None:
        """Send `sig` to the whole process group, wait, then end by pid whatever is left of
        the tree (a child in a session of its own, an orphaned daemon)."""
        if self in Launched.running:
            Launched.running.remove(self)
        self.tree()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._end_leftovers()

    def _end_leftovers(self) -> None:
        """SIGTERM, then SIGKILL after 10 s, to every known pid still alive as the same
        process (same start time: a reused pid is left alone)."""
        for sig, pause in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 2.0)):
            alive = self._still_ours()
            for pid in alive:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + pause
            while alive and time.monotonic() < deadline:
                time.sleep(0.2)
                alive = self._still_ours()

    def _still_ours(self) -> list[int]:
        stats = _stats()
        return [p for p, start in self.known.items() if p in stats and stats[p][1] == start]


def stop_all() -> None:
    """Stop every server still running (the clean-up on errors and Ctrl-C)."""
    for launched in list(Launched.running):
        launched.stop(timeout=30)


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy


def rest_ok(base: str, sender: str) -> bool:
    """A POST of "hi" to the REST channel answers 200."""
    request = urllib.request.Request(
        base + "/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": "hi"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with _DIRECT.open(request, timeout=30) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_ready(
    server: Launched,
    base: str,
    timeout: float,
    gave_up: Callable[[str], str | None] = lambda _: None,
) -> float:
    """Seconds from the launch to the first 200 REST answer. NotReady when the process
    exits, `gave_up(log text)` returns a reason, or `timeout` passes."""
    sender = f"bench-ready-{uuid.uuid4().hex[:12]}"
    while not rest_ok(base, sender):
        if server.proc.poll() is not None:
            why = f"{reason_line(server.output())} (exit code {server.proc.returncode})"
            raise NotReady(why, server.output(15))
        if reason := gave_up(server.output()):
            raise NotReady(reason, server.output(15))
        if time.perf_counter() - server.started > timeout:
            raise NotReady(f"no REST answer in {timeout:.0f} s", server.output(15))
        time.sleep(0.25)
    return time.perf_counter() - server.started


def wait_for_line(server: Launched, text: str, timeout: float) -> None:
    """Wait until the server's output holds `text` (scripts/run.py's ready line comes once
    every replica answers, after the first REST answer). NotReady when it exits first."""
    deadline = time.monotonic() + timeout
    while text not in server.output():
        if server.proc.poll() is not None:
            why = f"{reason_line(server.output())} (exit code {server.proc.returncode})"
            raise NotReady(why, server.output(15))
        if time.monotonic() > deadline:
            raise NotReady(f"no {text!r} line in {timeout:.0f} s", server.output(15))
        time.sleep(0.5)


MISSING = re.compile(r"\b(missing|lacks?|not found|not installed|cannot find|no such)\b", re.I)
PROBLEM = re.compile(r"did not start|unexpectedly|already in use|error|failed|cannot|refused", re.I)
CLOSING = ("Stopping ...", "Stopped.")  # what scripts/run.py prints after any failure


def missing_line(log: str) -> str | None:
    """The launcher's last output line that says something is missing, if any."""
    return next((ln.strip() for ln in reversed(log.splitlines()) if MISSING.search(ln)), None)


def reason_line(log: str) -> str:
    """Why a launcher stopped, in one line: what it said was missing, else its last line
    naming a problem, else its last line (its closing "Stopped." aside)."""
    lines = [ln.strip() for ln in log.splitlines() if ln.strip() and ln.strip() not in CLOSING]
    if not lines:
        return "no output"
    problem = next((ln for ln in reversed(lines) if PROBLEM.search(ln)), lines[-1])
    return missing_line(log) or problem
