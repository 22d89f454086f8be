"""Child processes for `make run`: started in their own process groups, watched, restarted.

A child that dies after start-up (a crash, the OOM killer, a `kill -9`) is started again with
a growing pause (1 s, 2 s, 4 s ... at most 30 s; back to 1 s once it has run for a minute),
so one crashed part never takes the page or the other parts down with it. A child that
dies while the assistant is still starting is a start-up error instead: it is reported with
the last lines of its log and nothing is retried.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

BACKOFF_FIRST = 1.0
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0  # seconds up after which the next crash starts the pauses afresh


def next_pause(previous: float | None) -> float:
    """The pause before the next restart, given the one before it (None: first crash)."""
    return BACKOFF_FIRST if previous is None else min(previous * 2, BACKOFF_MAX)


@dataclass
class Child:
    """One supervised process, how to start it again, and its restart state."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    proc: subprocess.Popen
    user: str | None = None
    started: float = field(default_factory=time.monotonic)
    pause: float | None = None
    restart_at: float | None = None
    restarts: int = 0


class Services:
    """Child processes, each in its own process group so that stopping takes them whole."""

    def __init__(self, log_dir: Path, cwd: Path, say: Callable[[str], None] = print) -> None:
        self.log_dir = log_dir
        self.cwd = cwd
        self.say = say
        self.children: dict[str, Child] = {}

    @property
    def procs(self) -> dict[str, subprocess.Popen]:
        return {name: child.proc for name, child in self.children.items()}

    def _spawn(
        self, name: str, cmd: list[str], env: dict[str, str], user: str | None = None
    ) -> subprocess.Popen:
        with open(self.log_dir / f"{name}.log", "ab") as log:  # the child keeps its copy
            return subprocess.Popen(
                cmd,
                cwd=self.cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
            )

    def start(
        self, name: str, cmd: list[str], env: dict[str, str], user: str | None = None
    ) -> subprocess.Popen:
        """Start `cmd` (as `user`, when given: the child itself, so that a signal reaches it
        rather than a wrapper such as runuser)."""
        proc = self._spawn(name, cmd, env, user)
        self.children[name] = Child(name, cmd, env, proc, user)
        return proc

    def foreground(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
        """A child that keeps the terminal (stdin/stdout); its warnings go to its log."""
        with open(self.log_dir / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(cmd, cwd=self.cwd, env=env, stderr=log)
        self.children[name] = Child(name, cmd, env, proc)
        return proc

    def dead(self) -> str | None:
        """The name of a child that has exited and is not waiting for a restart."""
        return next(
            (n for n, c in self.children.items() if c.proc.poll() is not None and not c.restart_at),
            None,
        )

    def supervise(self) -> None:
        """Schedule a restart for each child that died; start those whose pause is over."""
        now = time.monotonic()
        for child in self.children.values():
            if child.proc.poll() is None:
                continue
            if child.restart_at is None:
                if now - child.started > STABLE_AFTER:
                    child.pause = None
                child.pause = next_pause(child.pause)
                child.restart_at = now + child.pause
                self.say(
                    f"The {child.name} server stopped unexpectedly (exit {child.proc.returncode});"
                    f" restarting it in {child.pause:.0f} s. Last lines of logs/{child.name}.log:"
                    f"\n{self.tail(child.name, 10)}"
                )
            elif now >= child.restart_at:
                child.proc = self._spawn(child.name, child.cmd, child.env, child.user)
                child.started, child.restart_at = time.monotonic(), None
                child.restarts += 1
                self.say(f"Restarted the {child.name} server (restart {child.restarts}).")

    def stop(self) -> None:
        for child in self.children.values():
            if child.proc.poll() is None:
                try:
                    os.killpg(child.proc.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    child.proc.terminate()
        deadline = time.monotonic() + 15
        for child in self.children.values():
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait()

    def tail(self, name: str, lines: int = 25) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_until(check: Callable[[], bool], services: Services, timeout: float) -> str | None:
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
