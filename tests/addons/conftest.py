"""Fixtures for the connectors' unit tests: the platforms' APIs stood in for on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.channels.platform import PlatformStub


@pytest.fixture(scope="module")
def stub() -> Iterator[PlatformStub]:
    """One loopback stand-in for the platforms' APIs per test module (platform.py)."""
    platform = PlatformStub()
    yield platform
    platform.close()
