"""Regions and keys: one region per cached type, binding its policy, codec and counters to its keys.

``CacheManager.region(kind, value_type)`` makes a region; the cached repositories
(:mod:`~tux.database.repositories.cached`) hold one per lookup. ``region.key(guild_id, *parts)`` builds
a key cheaply (one string; per-guild keys are reused), and the key carries the region, so a lookup
needs no dictionary search to find its policy, its levels or its counters. The protocols of the shared
levels (Redis, the cache table) live here because a region lists the ones it reads through; nothing in
this module imports the manager or the levels, so the package has no import cycle.
"""

from __future__ import annotations

from itertools import islice
from typing import Any, Generic, Protocol, TypeVar

from tux.database.caching.budget import KeyMemoBudget
from tux.database.caching.config import CachePolicy
from tux.database.caching.keys import check_kind, key_name, tags_of
from tux.database.caching.serialization import Codec, fingerprint
from tux.database.caching.stats import RegionStats
from tux.database.caching.types import CacheLevel, StoreResult

V = TypeVar("V")


class CacheKey(Generic[V]):
    """A built key: its name, its guild and the region (type, policy, codec) it belongs to.

    Build keys with :meth:`CacheRegion.key <tux.database.caching.region.CacheRegion.key>`.
    """

    __slots__ = ("guild_id", "name", "region")

    def __init__(self, region: CacheRegion[V], guild_id: int | None, name: str) -> None:
        self.region = region
        self.guild_id = guild_id
        self.name = name

    @property
    def kind(self) -> str:
        """The type segment."""
        return self.region.kind

    @property
    def tags(self) -> tuple[str, str, str]:
        """The groups this key belongs to."""
        return tags_of(self.name)

    def __repr__(self) -> str:
        return f"CacheKey({self.name!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CacheKey) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)


class Fill(Protocol):
    """A fill begun in a shared level."""

    @property
    def found(self) -> object:
        """The value, when a current entry appeared since the read that missed; else ``MISS``."""
        ...

    @property
    def contended(self) -> bool:
        """Whether another process holds the key's lease and is loading it."""
        ...


class SharedLevel(Protocol):
    """What the read-through needs from Redis and the cache table."""

    @property
    def level(self) -> CacheLevel:
        """Which level this is."""
        ...

    async def read(self, key: CacheKey[Any]) -> object:
        """Return the current value, ``NOT_FOUND`` or ``MISS``."""
        ...

    async def begin(self, key: CacheKey[Any], *, lease: bool) -> Fill | None:
        """Begin a fill; ``None`` when the level cannot take one now."""
        ...

    async def store(self, key: CacheKey[Any], fill: Any, body: bytes, ttl: float) -> StoreResult:
        """Store if nothing was invalidated since ``fill`` began."""
        ...

    async def release(self, key: CacheKey[Any], fill: Any) -> None:
        """Abandon ``fill`` (give up its lease)."""
        ...


class CacheRegion(Generic[V]):
    """The cache of one type of value.

    Parameters
    ----------
    kind
        Type name, the first segment of every key.
    policy
        TTLs, levels and invalidation rules of the type.
    value_type
        Type of the values (used to decode them from shared levels, so a read returns the same type).
    levels
        The levels this region uses, fastest first (policy levels that are configured and enabled).
    shared
        The level objects of ``levels`` below memory, in order (what a miss reads through).
    key_memo
        The budget of memoized per-guild keys this region shares with the others of its cache.
    """

    __slots__ = (
        "codec",
        "fingerprint",
        "guild_keys",
        "kind",
        "levels",
        "memory",
        "policy",
        "shared",
        "stats",
        "value_type",
    )

    def __init__(
        self,
        kind: str,
        *,
        policy: CachePolicy,
        value_type: Any,
        levels: tuple[CacheLevel, ...],
        shared: tuple[SharedLevel, ...],
        stats: RegionStats,
        key_memo: KeyMemoBudget,
    ) -> None:
        self.guild_keys = GuildKeys(self, key_memo)
        """``guild_keys[guild_id]``: the key of this type's value for a guild, made once (an ``int``
        id; a new one is checked). A dictionary lookup on the hot path, not a call."""
        self.kind = check_kind(kind)
        self.policy = policy
        self.levels = levels
        self.shared = shared
        self.memory = CacheLevel.MEMORY in levels
        self.stats = stats
        self.adopt(value_type)

    def adopt(self, value_type: Any) -> None:
        """Set the type of the values (and so the codec and the schema fingerprint of shared entries)."""
        shared = any(level is not CacheLevel.MEMORY for level in self.levels)
        self.value_type = value_type
        self.fingerprint = fingerprint(value_type) if shared else "local"
        self.codec: Codec[V] = Codec(value_type if shared else Any)

    def key(self, guild_id: int | None, *parts: str | int) -> CacheKey[V]:
        """Return the key of the value of this type for ``guild_id`` identified by ``parts``."""
        if parts or type(guild_id) is not int:
            return CacheKey(self, guild_id, key_name(self.kind, guild_id, parts))
        return self.guild_keys[guild_id]


class GuildKeys(dict[int, CacheKey[V]]):
    """The memo of a region's per-guild keys; a missing one is built and kept within ``budget``.

    When the regions' memos together are full, this one forgets its oldest half (at least one key)
    before keeping the new key: a guild still read is memoized again at once, so the hot keys stay
    while the memo never holds more than the budget's capacity plus one key per region.
    """

    def __init__(self, region: CacheRegion[V], budget: KeyMemoBudget) -> None:
        super().__init__()
        self._region = region
        self._budget = budget

    def __missing__(self, guild_id: int) -> CacheKey[V]:
        budget = self._budget
        if budget.held >= budget.capacity and self:
            oldest = list(islice(self, (len(self) + 1) // 2))
            for old in oldest:
                del self[old]
            budget.held -= len(oldest)
        region = self._region
        key = self[guild_id] = CacheKey(region, guild_id, key_name(region.kind, guild_id, ()))
        budget.held += 1
        return key
