"""A private redis-server for the security tests: every key and channel in it is this test's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.caching.conftest import PrivateRedis, free_port


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A started private redis-server on a free port, killed after the test."""
    server = PrivateRedis(free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
