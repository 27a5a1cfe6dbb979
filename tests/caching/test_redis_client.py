"""The cache's own Redis client against the real server: URLs, replies, scripts, pipelines, failures."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tests.caching.conftest import wait_until
from tests.conftest import REDIS_URL
from tux.database.caching.redis_client import Address, RedisClient, ResponseError
from tux.database.exceptions import ConfigurationError


@pytest.fixture
async def client(redis_namespace: str) -> AsyncIterator[RedisClient]:
    client = RedisClient.from_url(REDIS_URL, socket_timeout=2.0, connect_timeout=2.0)
    yield client
    await client.aclose()


def test_a_url_gives_server_credentials_and_database() -> None:
    address = Address.from_url("rediss://bot:p%40ss@cache.internal:6380/3")
    assert address == Address("cache.internal", 6380, None, True, "bot", "p@ss", 3)
    assert "p@ss" not in repr(address)
    assert Address.from_url("redis://:pw@127.0.0.1?db=5").db == 5
    assert Address.from_url("unix:///run/redis.sock?db=2") == Address(path="/run/redis.sock", db=2)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:6379/0", "redis://127.0.0.1/0?ssl_cert_reqs=none", "redis://127.0.0.1/one"]
)
def test_a_url_the_client_cannot_honour_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        Address.from_url(url)


async def test_replies_come_back_typed_and_error_replies_are_raised(
    client: RedisClient, redis_namespace: str
) -> None:
    key = f"{redis_namespace}:k"
    async with client.pipeline() as pipe:
        pipe.queue("SET", key, b"\x00value")
        pipe.publish(f"{redis_namespace}:nobody", b"m")
        assert await pipe.execute() == [b"OK", 0]
    assert await client.mget([key, f"{redis_namespace}:missing"]) == [b"\x00value", None]
    with pytest.raises(ResponseError, match=r"^WRONGTYPE"):
        await client.command("LPUSH", key, 1)
    async with client.pipeline() as pipe:
        pipe.queue("LPUSH", key, 1)
        pipe.delete(key)
        with pytest.raises(ResponseError):
            await pipe.execute()
    assert await client.mget([key]) == [None], "the commands after the error were still run"


async def test_a_script_the_server_forgot_is_sent_again(client: RedisClient, redis_namespace: str) -> None:
    script = client.register_script(f"return {{KEYS[1], ARGV[1], {uuid.uuid4().int % 1000}}}")
    key = f"{redis_namespace}:s"
    first = await script(keys=[key], args=[7])
    await client.command("SCRIPT", "FLUSH")
    assert await script(keys=[key], args=[7]) == first == [key.encode(), b"7", first[2]]
    async with client.pipeline() as pipe:
        await script(keys=[key], args=[8], client=pipe)
        assert await pipe.execute() == [[key.encode(), b"8", first[2]]]


async def test_a_connection_the_server_closed_is_replaced_before_use(client: RedisClient) -> None:
    await client.ping()
    client_id = await client.command("CLIENT", "ID")
    admin = aioredis.Redis.from_url(REDIS_URL)
    try:
        assert await admin.client_kill_filter(_id=client_id) == 1
    finally:
        await admin.aclose()
    await wait_until(lambda: not client._idle[-1].usable)
    assert await client.command("CLIENT", "ID") != client_id


async def test_a_command_that_times_out_does_not_leave_its_reply_for_the_next(redis_namespace: str) -> None:
    slow = RedisClient.from_url(REDIS_URL, socket_timeout=0.05, connect_timeout=2.0)
    try:
        with pytest.raises(TimeoutError):
            await slow.command("BLPOP", f"{redis_namespace}:empty", 0.2)
        await asyncio.sleep(0.3)  # the server has answered the BLPOP by now (nil) on the abandoned connection
        assert await slow.command("ECHO", "after") == b"after"
    finally:
        await slow.aclose()


async def test_a_subscription_receives_messages_and_pongs(client: RedisClient, redis_namespace: str) -> None:
    channel = f"{redis_namespace}:bus"
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(channel)
        confirmed = await pubsub.get_message(within=2.0)
        assert confirmed is not None
        assert (confirmed["type"], confirmed["channel"]) == ("subscribe", channel.encode())
        assert await pubsub.get_message(within=0.01) is None
        await client.command("PUBLISH", channel, b"hello")
        message = await pubsub.get_message(within=2.0)
        assert message is not None
        assert (message["type"], message["data"]) == ("message", b"hello")
        await pubsub.ping()
        pong = await pubsub.get_message(within=2.0)
        assert pong is not None
        assert pong["type"] == "pong"
    finally:
        await pubsub.aclose()
