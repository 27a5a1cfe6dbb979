"""Reaching Redis from the CLI: a ping that says which server answered, or why none did."""

from __future__ import annotations

import redis.asyncio as aioredis

from tux.database.exceptions import ConfigurationError

REDIS_TIMEOUT = 3.0


async def redis_version(url: str) -> str:
    """Return the version of the Redis server at ``url``.

    Raises
    ------
    ConfigurationError
        If ``url`` is not a Redis URL.
    redis.exceptions.RedisError
        If the server does not answer within :data:`REDIS_TIMEOUT` seconds.
    """
    try:
        client = aioredis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT
        )
    except ValueError as error:
        raise ConfigurationError(f"Redis URL cannot be used: {error}") from None
    try:
        info = await client.info("server")
        return str(info.get("redis_version", "unknown"))
    finally:
        await client.aclose()
