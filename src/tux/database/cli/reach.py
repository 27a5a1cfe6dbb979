"""Reaching Redis from the CLI: which server answered (or why none did), and cleaning up a run's keys."""

from __future__ import annotations

import redis.asyncio as aioredis

from tux.database.exceptions import ConfigurationError

REDIS_TIMEOUT = 3.0


async def redis_info(url: str) -> dict[str, object]:
    """Return the ``INFO server`` and ``INFO memory`` sections of the Redis server at ``url``.

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
        return {**await client.info("server"), **await client.info("memory")}
    finally:
        await client.aclose()


async def redis_version(url: str) -> str:
    """Return the version of the Redis server at ``url`` (errors as :func:`redis_info`)."""
    return str((await redis_info(url)).get("redis_version", "unknown"))


async def delete_namespace(url: str, namespace: str) -> None:
    """Delete the keys of ``namespace`` (``namespace:*``) and nothing else; never a flush."""
    client = aioredis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{namespace}:*", count=1000)]
        for start in range(0, len(keys), 1000):
            await client.delete(*keys[start : start + 1000])
    finally:
        await client.aclose()
