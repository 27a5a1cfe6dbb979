"""The invalidation bus: Redis pub/sub that keeps every process's memory level coherent.

An invalidation is applied locally and in Redis first and published afterwards, so a process that
hears of it and reloads finds the new state. Subscribers drop the named keys and groups from their
memory level and void fills in flight for them.

A subscriber that is not subscribed would miss invalidations, so its memory level must not serve: the
manager keeps the memory level inactive until the first subscription is confirmed, flushes and
deactivates it as soon as the connection is lost (an error, or no answer to a ping within the ping
timeout: a blackholed connection raises nothing), and flushes it again when the subscription is back,
since messages sent in between are lost. A message that cannot be decoded is treated as a flush.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Callable
from typing import Any

import msgspec
from loguru import logger

from tux.database.caching.config import CacheConfig
from tux.database.caching.keys import EPOCH_TAG, Targets
from tux.database.caching.redis_client import PubSub, RedisClient
from tux.database.caching.redis_level import FAILURES
from tux.database.caching.stats import CacheStats
from tux.database.exceptions import ConnectionLostError


class BusMessage(msgspec.Struct, array_like=True, frozen=True):
    """One invalidation as published: who sent it, which keys and which groups."""

    origin: bytes
    names: tuple[str, ...]
    tags: tuple[str, ...]


_LOST: tuple[type[BaseException], ...] = (*FAILURES, ConnectionLostError)
_DECODER = msgspec.msgpack.Decoder(BusMessage)
_ENCODER = msgspec.msgpack.Encoder()


class InvalidationBus:
    """Subscription to the invalidation channel, kept alive by a background task.

    Parameters
    ----------
    client
        Redis client (the subscription takes a dedicated connection from its pool).
    channel
        The deployment's bus channel.
    origin
        This manager's id; its own messages are ignored (they were applied before being sent).
    config
        Ping interval and timeout, reconnect backoff.
    stats
        Counts received messages and disconnects.
    on_message
        Applies a received invalidation to the memory level.
    on_down, on_up
        Called when the subscription is lost and when it is (re)established.
    """

    def __init__(
        self,
        client: RedisClient,
        channel: str,
        *,
        origin: bytes,
        config: CacheConfig,
        stats: CacheStats,
        on_message: Callable[[Targets], None],
        on_down: Callable[[str], None],
        on_up: Callable[[], None],
    ) -> None:
        self._client = client
        self._channel = channel
        self._origin = origin
        self._config = config
        self._stats = stats
        self._on_message = on_message
        self._on_down = on_down
        self._on_up = on_up
        self._task: asyncio.Task[None] | None = None
        self.connected = False
        self.ready = asyncio.Event()

    def encode(self, targets: Targets) -> bytes:
        """Return the message announcing ``targets``."""
        return _ENCODER.encode(BusMessage(self._origin, targets.names, targets.tags))

    def start(self) -> None:
        """Start the subscriber task (in a fresh context: it must not inherit a caller's transaction)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), context=contextvars.Context())

    async def close(self) -> None:
        """Cancel the subscriber task and wait for it."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.connected = False
        self.ready.clear()

    async def _run(self) -> None:
        delay = self._config.probe_interval
        while True:
            started = time.monotonic()
            try:
                await self._listen()
            except _LOST as error:
                self._lost(f"{type(error).__name__}: {error}")
            if time.monotonic() - started > self._config.probe_max_interval:
                delay = self._config.probe_interval
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._config.probe_max_interval)

    async def _listen(self) -> None:
        pubsub = self._client.pubsub()
        try:
            async with asyncio.timeout(self._config.bus_ping_timeout):
                await pubsub.subscribe(self._channel)
                while not _is(await pubsub.get_message(within=self._config.bus_ping_timeout), "subscribe"):
                    pass
            self.connected = True
            self._on_up()
            self.ready.set()
            await self._pump(pubsub)
        finally:
            await _close_quietly(pubsub)

    async def _pump(self, pubsub: PubSub) -> None:
        """Deliver messages; ping when idle and give up when a ping is not answered in time."""
        ping_sent: float | None = None
        while True:
            message = await pubsub.get_message(within=self._config.bus_ping_interval)
            now = time.monotonic()
            if message is None:
                if ping_sent is None:
                    await pubsub.ping()
                    ping_sent = now
                elif now - ping_sent > self._config.bus_ping_timeout:
                    raise ConnectionLostError("invalidation bus ping not answered")
                continue
            ping_sent = None
            if message["type"] == "message":
                self._deliver(message["data"])

    def _deliver(self, data: bytes) -> None:
        try:
            message = _DECODER.decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as error:
            logger.warning("undecodable invalidation bus message treated as a flush: {}", error)
            self._stats.bus_messages += 1
            self._on_message(Targets(tags=(EPOCH_TAG,)))
            return
        if message.origin != self._origin:
            self._stats.bus_messages += 1
            self._on_message(Targets(message.names, message.tags))

    def _lost(self, reason: str) -> None:
        if self.connected:
            self._stats.bus_disconnects += 1
            logger.warning("invalidation bus lost ({}); memory cache level bypassed until it is back", reason)
        self.connected = False
        self.ready.clear()
        self._on_down(reason)


def _is(message: dict[str, Any] | None, kind: str) -> bool:
    return message is not None and message["type"] == kind


async def _close_quietly(pubsub: PubSub) -> None:
    try:
        await pubsub.aclose()
    except FAILURES as error:
        logger.debug("closing the bus subscription failed: {}", error)
