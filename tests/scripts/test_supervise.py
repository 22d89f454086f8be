"""The launcher's supervision: a child that dies after start-up is restarted after a growing
pause, while the others keep running; stopping takes every child down."""

from __future__ import annotations

import os
import signal
import sys
import time

from scripts.supervise import BACKOFF_MAX, Services, next_pause


def test_pauses_grow_to_a_ceiling():
    pauses, pause = [], None
    for _ in range(8):
        pause = next_pause(pause)
        pauses.append(pause)
    assert pauses[:4] == [1, 2, 4, 8] and pauses[-1] == BACKOFF_MAX


def test_a_killed_child_is_restarted_and_the_others_keep_running(tmp_path):
    said: list[str] = []
    services = Services(tmp_path, tmp_path, say=said.append)
    sleeper = [sys.executable, "-c", "import time; time.sleep(120)"]
    crashed = services.start("actions", sleeper, dict(os.environ))
    other = services.start("web", sleeper, dict(os.environ))
    try:
        os.kill(crashed.pid, signal.SIGKILL)
        crashed.wait(5)
        deadline = time.monotonic() + 10
        while services.children["actions"].restarts == 0 and time.monotonic() < deadline:
            services.supervise()
            time.sleep(0.1)
        restarted = services.children["actions"].proc
        assert restarted.pid != crashed.pid and restarted.poll() is None
        assert other.poll() is None and services.children["web"].restarts == 0
        assert (
            "actions server stopped unexpectedly" in said[0] and "restarting it in 1 s" in said[0]
        )
        assert services.dead() is None
    finally:
        services.stop()
    assert all(p.poll() is not None for p in services.procs.values())


def test_a_child_waiting_for_its_restart_is_not_reported_dead(tmp_path):
    services = Services(tmp_path, tmp_path, say=lambda _: None)
    proc = services.start("actions", [sys.executable, "-c", "pass"], dict(os.environ))
    proc.wait(10)
    assert services.dead() == "actions"  # while starting up: a start-up failure
    services.supervise()  # after start-up: scheduled for a restart instead
    assert services.dead() is None
    services.stop()
