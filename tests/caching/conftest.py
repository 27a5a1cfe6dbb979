"""Fixtures of the cache tests.

A private key namespace on the shared Redis, private Redis servers for outages, a blackholed port, and
the ``cache_entry`` table on both backends.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import replace
from multiprocessing.context import SpawnProcess
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from tests.conftest import REDIS_URL
from tux.database.caching.config import CacheConfig
from tux.database.caching.manager import CacheManager
from tux.database.core.engine import create_engine, normalize_url
from tux.database.core.session import SessionProvider
from tux.database.models.cache_entry import CacheEntry
from tux.database.settings import DatabaseSettings

REDIS_NO_PERSISTENCE = ("--save", "", "--appendonly", "no")

FAST = CacheConfig(
    redis_socket_timeout=0.05,
    redis_connect_timeout=0.05,
    probe_interval=0.02,
    probe_max_interval=0.1,
    bus_ping_interval=0.05,
    bus_ping_timeout=0.2,
    lease_ttl=5.0,
)
"""Outage tuning: short timeouts and probes, so outages are noticed and recovered from quickly."""

STEADY = replace(FAST, redis_socket_timeout=2.0, redis_connect_timeout=2.0, bus_ping_timeout=5.0)
"""Tuning against the shared, healthy Redis: a busy machine must not look like an outage."""


def fast_config(**changes: Any) -> CacheConfig:
    """Return :data:`FAST` with ``changes``."""
    return replace(FAST, **changes)


async def wait_until(condition: Callable[[], bool | Awaitable[bool]], within: float = 5.0) -> None:
    """Wait for ``condition`` with a bounded loop (each turn yields to the event loop)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.005)


@pytest.fixture
def namespace(redis_namespace: str) -> str:
    """A Redis namespace of this test on the shared server (see ``redis_namespace``)."""
    return redis_namespace


@pytest.fixture
async def raw_redis() -> AsyncIterator[aioredis.Redis]:
    """A plain client of the shared Redis, to look at what the cache wrote."""
    client = aioredis.Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


CacheFactory = Callable[..., Awaitable[CacheManager]]


@pytest.fixture
async def make_cache(namespace: str) -> AsyncIterator[CacheFactory]:
    """Build started cache managers (closed after the test); defaults to the shared Redis."""
    made: list[CacheManager] = []

    async def make(
        config: CacheConfig = STEADY,
        *,
        redis_url: str | None = REDIS_URL,
        ready_within: float = 2.0,
        **kwargs: Any,
    ) -> CacheManager:
        kwargs.setdefault("namespace", namespace)
        cache = CacheManager(config, redis_url=redis_url, **kwargs)
        made.append(cache)
        await cache.start(ready_within=ready_within)
        return cache

    yield make
    for cache in made:
        await cache.close()


def free_port() -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test, which it may stop, restart, freeze and thaw."""

    def __init__(self, port: int, directory: Path) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._directory = directory
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [*("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"), *REDIS_NO_PERSISTENCE],
            cwd=self._directory,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.05) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.01)  # bounded poll while an external process boots
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)
            self._process.kill()
            self._process.wait()
            self._process = None

    def freeze(self) -> None:
        """SIGSTOP: the port stays open and the data stays, but nothing answers."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    """A started private redis-server on a free port, killed after the test."""
    server = PrivateRedis(free_port(), tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def blackhole() -> AsyncIterator[str]:
    """URL of a port that accepts connections and never answers anything."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"redis://127.0.0.1:{port}/0"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


@pytest.fixture
async def cache_engine(empty_database_url: str) -> AsyncIterator[tuple[AsyncEngine, SessionProvider]]:
    """An engine on a fresh database of each backend with the ``cache_entry`` table, and its sessions."""
    url = normalize_url(empty_database_url)
    engine = create_engine(url, DatabaseSettings(database_url=empty_database_url))
    async with engine.begin() as connection:
        await connection.run_sync(
            lambda sync: CacheEntry.metadata.create_all(sync, tables=[CacheEntry.__table__])
        )
    factory = async_sessionmaker(engine, expire_on_commit=False)
    sessions = SessionProvider(factory, sqlite=url.get_backend_name() == "sqlite")
    yield engine, sessions
    await engine.dispose()


SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def spawn() -> Iterator[Any]:
    started: list[SpawnProcess] = []

    def run(target: Any, *args: Any) -> SpawnProcess:
        process = SPAWN.Process(target=target, args=args, daemon=True)
        process.start()
        started.append(process)
        return process

    yield run
    for process in started:
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()


def next_event(events: Any, within: float = 30.0) -> tuple[Any, ...]:
    try:
        return tuple(events.get(timeout=within))
    except queue.Empty:
        raise AssertionError("the other process did not report in time") from None
