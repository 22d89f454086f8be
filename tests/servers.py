"""Pytest plugin: Redis for the lock store, and the Debian packages the replicas mode needs.

`ensure_packages` installs missing Debian packages with apt-get when the tests run as root
(CI on a clean machine), and skips with the command to run otherwise. `redis_url` starts a
private redis-server on loopback and a free port for the session.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator

import pytest

from scripts import scale_out
from tests.helpers import free_port

#: Binary -> the Debian package that provides it.
PACKAGES = {"redis-server": "redis-server", "nginx": "nginx-light"}


def ensure_packages(*binaries: str) -> None:
    """Every binary present, installing its package when missing (as root), else skip."""
    lacking = [b for b in binaries if not scale_out.binary(b)]
    if not lacking:
        return
    packages = sorted({PACKAGES[b] for b in lacking})
    command = f"sudo apt-get install -y --no-install-recommends {' '.join(packages)}"
    if os.geteuid() != 0:
        pytest.skip(f"{', '.join(lacking)} not installed and we are not root: run `{command}`")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", *packages],
    ):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            pytest.skip(f"`{' '.join(cmd)}` failed (no network?): {done.stderr[-500:]}")
    still = [b for b in binaries if not scale_out.binary(b)]
    if still:
        pytest.fail(f"apt-get installed {packages} but {still} are still missing")


def wait_for_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not scale_out.port_open(port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listening on 127.0.0.1:{port}")
        time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """redis://127.0.0.1:<port>/0 on a private redis-server (no persistence)."""
    ensure_packages("redis-server")
    port = free_port()
    proc = subprocess.Popen(
        scale_out.redis_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(10)
