"""The Redis level: shared by every process of a deployment, never trusted across an outage.

Layout (``ns`` is the deployment's ``redis_namespace``, ``c1`` the entry format version, ``fp`` the
fingerprint of the value type's schema)::

    ns:c1:e:fp:KEY   entry: stamps of its guard and groups + marker + MessagePack body
    ns:c1:g:KEY      guard: random stamp of the key; deleting it invalidates the key in every release
    ns:c1:t:TAG      group stamp; deleting it invalidates the group (``t:*`` is the epoch)
    ns:c1:l:fp:KEY   lease of the process that is loading KEY (stampede protection)
    ns:c1:bus        pub/sub channel of the invalidation bus

**No stale fill.** A fill begins with a script that creates missing stamps and returns the current
ones; the fill then stores with a compare-and-set script that writes only if the guard and group stamps
are still those. An invalidation deletes guards and group stamps, so a reader that read the old row
before a writer's invalidation has its store refused. Stamps are random, never counters: a deleted
stamp is recreated with a new value, so no old entry can match it again (ABA), and a stamp lost to
eviction or a restart only makes entries stale, never valid. Every read checks the entry's stamps
against the current ones in the same ``MGET``, which is why a group invalidation is a single ``DEL``
and never a scan.

**Outages.** Every failure is counted and the circuit breaker opens after a few (at once when an
invalidation may have been lost). While it is open the level is skipped. A background probe closes it,
but only after it has deleted the epoch stamp and announced a flush on the bus: any process may have
failed to deliver an invalidation while Redis was away, and Redis itself may have come back from an
older snapshot, so nothing written before the outage can be trusted. Deleting the epoch makes every
older entry stale in one step, whichever process recovers first; a fill that began before the outage
is refused because its epoch stamp no longer matches. The window left is a process that cannot reach
Redis while others can (a partition): its invalidations reach Redis when its own probe succeeds, one
probe interval at most after Redis is reachable again.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, cast

import msgspec
from loguru import logger

from tux.database.caching.circuit import CircuitBreaker
from tux.database.caching.config import CacheConfig
from tux.database.caching.keys import EPOCH_TAG, Targets, tags_of
from tux.database.caching.redis_client import RedisClient, RedisError
from tux.database.caching.region import CacheKey
from tux.database.caching.serialization import SCHEMA_VERSION, new_stamp, unframe
from tux.database.caching.stats import CacheStats
from tux.database.caching.types import MISS, CacheLevel, Miss, NotFound, StoreResult

FAILURES: tuple[type[BaseException], ...] = (RedisError, OSError, TimeoutError)
"""What a Redis call can raise when Redis is slow, gone or refuses the command."""
LAYOUT_CACHE_SIZE = 16_384
_LEASED = 1
_ENTRY_CURRENT = 2

_BEGIN = """
local joined = ''
for i = 3, #KEYS do
  local ttl = ARGV[4]
  if i == 3 then ttl = ARGV[3] end
  local stamp = redis.call('GET', KEYS[i])
  if stamp then
    redis.call('PEXPIRE', KEYS[i], ttl)
  else
    stamp = ARGV[2 + i]
    redis.call('SET', KEYS[i], stamp, 'PX', ttl)
  end
  joined = joined .. stamp
end
local entry = redis.call('GET', KEYS[2])
if entry and string.sub(entry, 1, #joined) == joined then return {2, joined, entry} end
if ARGV[1] ~= '' and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, joined} end
return {0, joined}
"""
_STORE = """
local stamps = ''
for i = 3, #KEYS do
  local stamp = redis.call('GET', KEYS[i])
  if not stamp then stamps = false break end
  stamps = stamps .. stamp
end
local stored = 0
if stamps == ARGV[4] then
  redis.call('SET', KEYS[1], ARGV[4] .. ARGV[2], 'PX', ARGV[3])
  stored = 1
end
if ARGV[1] ~= '' and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return stored
"""
_PUT = """
redis.call('SET', KEYS[2], ARGV[5], 'PX', ARGV[3])
local stamps = ARGV[5]
for i = 3, #KEYS do
  local stamp = redis.call('GET', KEYS[i])
  if not stamp then
    stamp = ARGV[3 + i]
    redis.call('SET', KEYS[i], stamp, 'PX', ARGV[4])
  end
  stamps = stamps .. stamp
end
redis.call('SET', KEYS[1], stamps .. ARGV[1], 'PX', ARGV[2])
return 1
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class _Layout(NamedTuple):
    """The Redis keys of one cache key.

    Built once per key and encoded: they are on every operation's path, and the client passes ``bytes``
    through untouched.
    """

    entry: bytes
    lease: bytes
    stamps: tuple[bytes, ...]
    read: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class RedisFill:
    """A fill in progress: the stamps it was begun under and, when this process won it, the lease.

    ``found`` is the value when a current entry appeared since the read that missed (nothing to
    load then); ``contended`` says another process holds the lease and is loading.
    """

    stamps: bytes
    lease: bytes | None
    found: object = MISS
    contended: bool = False


class RedisLevel:
    """Typed, stamped, circuit-broken access to the shared Redis level.

    Parameters
    ----------
    client
        The cache's Redis client (short timeouts, no retries).
    namespace
        The deployment's key namespace.
    config
        TTLs of leases, guards and stamps, breaker and probe settings.
    stats
        Where failures are counted.
    flush_message
        Returns the bus message that tells other processes to drop their memory level.
    """

    level = CacheLevel.REDIS

    def __init__(
        self,
        client: RedisClient,
        *,
        namespace: str,
        config: CacheConfig,
        stats: CacheStats,
        flush_message: Callable[[], bytes],
    ) -> None:
        self._client = client
        self._config = config
        self._stats = stats
        self._flush_message = flush_message
        self._prefix = f"{namespace}:c{SCHEMA_VERSION}:"
        self.channel = f"{self._prefix}bus"
        self._breaker = CircuitBreaker(config.breaker_failure_threshold)
        self._recovery: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.ready.set()
        self._begin = client.register_script(_BEGIN)
        self._store = client.register_script(_STORE)
        self._put = client.register_script(_PUT)
        self._release = client.register_script(_RELEASE)
        self._layout = functools.lru_cache(maxsize=LAYOUT_CACHE_SIZE)(self._build_layout)

    @property
    def available(self) -> bool:
        """Whether operations currently go to Redis (the circuit is closed)."""
        return self._breaker.is_closed

    def start(self, *, flush: bool) -> None:
        """Begin serving; with ``flush``, only after the epoch was bumped (nothing older is trusted)."""
        if flush:
            self._breaker.trip()
            self.ready.clear()
            self._start_recovery(first_delay=0.0)

    async def close(self) -> None:
        """Stop the recovery probe and release the connections."""
        task, self._recovery = self._recovery, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        await self._client.aclose()

    def trip(self, reason: str) -> None:
        """Stop using Redis until the probe has reconnected and bumped the epoch."""
        if self._breaker.is_closed:
            logger.warning("Redis cache level suspended: {}", reason)
        self._breaker.trip()
        self.ready.clear()
        self._start_recovery(first_delay=self._config.probe_interval)

    async def read(self, key: CacheKey[Any]) -> object | NotFound | Miss:
        """Return the value of ``key`` if Redis holds a current entry for it, else ``MISS``."""
        if not self._breaker.is_closed:
            return MISS
        try:
            values = await self._client.mget(self._layout(key.name, key.region.fingerprint).read)
        except FAILURES as error:
            self._failed("read", error)
            return MISS
        self._breaker.record_success()
        entry, stamp_values = values[0], cast("list[bytes]", values[1:])
        try:
            stamps = b"".join(stamp_values)
        except TypeError:  # a stamp is missing: everything under it is stale
            return MISS
        return MISS if entry is None else self._decode(key, entry, stamps)

    def _decode(self, key: CacheKey[Any], entry: bytes, stamps: bytes) -> object | NotFound | Miss:
        """Return the value of ``entry`` if it was filled under ``stamps``, else ``MISS``."""
        body = unframe(entry, stamps)
        if body is None:
            return MISS
        try:
            return key.region.codec.decode(body)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as error:
            logger.warning("undecodable Redis cache entry {} dropped from the read: {}", key.name, error)
            self._stats.count_error(CacheLevel.REDIS)
            return MISS

    async def begin(self, key: CacheKey[Any], *, lease: bool) -> RedisFill | None:
        """Start a fill of ``key``: create missing stamps and read them.

        If a current entry is there by now, it is returned as ``found`` (the read that missed raced
        with another process's fill); otherwise, with ``lease``, the lease is tried.
        """
        if not self._breaker.is_closed:
            return None
        token = new_stamp() if lease else b""
        guard_ms, tag_ms = self._guard_ms(key), _ms(self._config.tag_ttl)
        args: list[bytes | int] = [token, _ms(self._config.lease_ttl), guard_ms, tag_ms]
        args += [new_stamp() for _ in range(4)]
        try:
            layout = self._layout(key.name, key.region.fingerprint)
            result = await self._begin(keys=[layout.lease, layout.entry, *layout.stamps], args=args)
        except FAILURES as error:
            self._failed("begin fill", error)
            return None
        self._breaker.record_success()
        status, stamps, *entry = result
        if status == _ENTRY_CURRENT:
            return RedisFill(stamps, None, found=self._decode(key, entry[0], stamps))
        if status == _LEASED:
            return RedisFill(stamps, token)
        return RedisFill(stamps, None, contended=lease)

    async def store(self, key: CacheKey[Any], fill: RedisFill, body: bytes, ttl: float) -> StoreResult:
        """Store ``body`` if no invalidation touched ``key`` since ``fill`` began; release the lease."""
        if not self._breaker.is_closed:
            return StoreResult.SKIPPED
        layout = self._layout(key.name, key.region.fingerprint)
        keys = [layout.entry, layout.lease, *layout.stamps]
        try:
            stored = await self._store(keys=keys, args=[fill.lease or b"", body, _ms(ttl), fill.stamps])
        except FAILURES as error:
            self._failed("store", error)
            return StoreResult.SKIPPED
        self._breaker.record_success()
        return StoreResult.STORED if stored == 1 else StoreResult.REFUSED

    async def release(self, key: CacheKey[Any], fill: RedisFill) -> None:
        """Give up the lease of ``fill`` (the load failed) so another process can load at once."""
        if fill.lease is None or not self._breaker.is_closed:
            return
        try:
            await self._release(
                keys=[self._layout(key.name, key.region.fingerprint).lease], args=[fill.lease]
            )
        except FAILURES as error:
            self._failed("release lease", error)

    async def put(self, key: CacheKey[Any], body: bytes, ttl: float, message: bytes) -> bool:
        """Store ``body`` unconditionally under a new guard, then publish ``message``.

        Fills begun earlier will be refused, and other processes drop their memory copy when they get
        ``message``. A failure is a lost invalidation.
        """
        if not self._breaker.is_closed:
            return False
        args: list[bytes | int] = [body, _ms(ttl), self._guard_ms(key), _ms(self._config.tag_ttl)]
        args += [new_stamp() for _ in range(4)]
        try:
            async with self._client.pipeline() as pipe:
                layout = self._layout(key.name, key.region.fingerprint)
                await self._put(keys=[layout.entry, *layout.stamps], args=args, client=pipe)
                pipe.publish(self.channel, message)
                await pipe.execute()
        except FAILURES as error:
            self._failed("put", error, lost_invalidation=True)
            return False
        self._breaker.record_success()
        return True

    async def invalidate(self, targets: Targets, entries: Sequence[tuple[str, str]], message: bytes) -> bool:
        """Delete the guards, leases, entries and group stamps of ``targets``, then publish ``message``.

        Return whether both happened. A failure suspends the level until the epoch is bumped.
        ``entries`` pairs each key name with the fingerprint of its type in this release.
        """
        if not self._breaker.is_closed:
            return False
        doomed = [self._tag_key(tag) for tag in targets.tags]
        doomed += [self._guard_key(name) for name in targets.names]
        for name, fp in entries:
            doomed += [f"{self._prefix}e:{fp}:{name}", f"{self._prefix}l:{fp}:{name}"]
        try:
            async with self._client.pipeline() as pipe:
                if doomed:
                    pipe.delete(*doomed)
                pipe.publish(self.channel, message)
                await pipe.execute()
        except FAILURES as error:
            self._failed("invalidate", error, lost_invalidation=True)
            return False
        self._breaker.record_success()
        return True

    def _build_layout(self, name: str, fingerprint: str) -> _Layout:
        entry = f"{self._prefix}e:{fingerprint}:{name}".encode()
        stamps = tuple(key.encode() for key in (self._guard_key(name), *map(self._tag_key, tags_of(name))))
        lease = f"{self._prefix}l:{fingerprint}:{name}".encode()
        return _Layout(entry, lease, stamps, (entry, *stamps))

    def _guard_key(self, name: str) -> str:
        return f"{self._prefix}g:{name}"

    def _tag_key(self, tag: str) -> str:
        return f"{self._prefix}t:{tag}"

    def _guard_ms(self, key: CacheKey[Any]) -> int:
        policy = key.region.policy
        return _ms(
            max(policy.ttl, policy.negative_ttl, self._config.fill_max_age) + self._config.guard_margin
        )

    def _failed(self, operation: str, error: BaseException, *, lost_invalidation: bool = False) -> None:
        self._stats.count_error(CacheLevel.REDIS)
        if lost_invalidation:
            self.trip(f"{operation} failed ({type(error).__name__}: {error}); the epoch will be bumped")
        elif self._breaker.record_failure():
            self.ready.clear()
            logger.warning(
                "Redis cache level suspended after {} failed: {}: {}", operation, type(error).__name__, error
            )
            self._start_recovery(first_delay=self._config.probe_interval)

    def _start_recovery(self, *, first_delay: float) -> None:
        if self._recovery is None or self._recovery.done():
            self._recovery = asyncio.create_task(self._recover(first_delay), context=contextvars.Context())

    async def _recover(self, delay: float) -> None:
        """Probe until Redis answers, bump the epoch, announce the flush, then close the circuit."""
        while True:
            await asyncio.sleep(delay)
            try:
                await self._client.ping()
                async with self._client.pipeline() as pipe:
                    pipe.delete(self._tag_key(EPOCH_TAG))
                    pipe.publish(self.channel, self._flush_message())
                    await pipe.execute()
            except FAILURES as error:
                logger.debug("Redis cache probe failed: {}: {}", type(error).__name__, error)
                delay = min(max(delay, self._config.probe_interval) * 2, self._config.probe_max_interval)
                continue
            self._breaker.close()
            self.ready.set()
            logger.info("Redis cache level resumed with a new epoch")
            return


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
