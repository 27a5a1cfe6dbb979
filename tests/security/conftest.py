"""The security tests use the caching suite's private redis-server: every key and channel in it is theirs."""

from __future__ import annotations

from tests.caching.conftest import private_redis

__all__ = ["private_redis"]
