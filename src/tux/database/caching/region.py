"""Regions: one per cached type, binding its policy, codec and counters to the keys it builds.

A region is what a repository holds: ``region.key(guild_id, user_id)`` builds a key cheaply (one
string; per-guild keys are reused), and the key carries the region, so a lookup needs no dictionary
search to find its policy, its levels or its counters.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from tux.database.caching.config import CachePolicy
from tux.database.caching.keys import CacheKey, check_kind, group_tag, key_name
from tux.database.caching.serialization import Codec, fingerprint
from tux.database.caching.stats import RegionStats
from tux.database.caching.types import CacheLevel, Miss

if TYPE_CHECKING:
    from tux.database.caching.loading import SharedLevel
    from tux.database.caching.manager import CacheManager

V = TypeVar("V")
GUILD_KEY_MEMO_SIZE = 65_536
"""Per-guild keys (no parts) are built once and reused: the hottest lookups (guild config, prefix)
then allocate nothing. The memo is dropped whole when it reaches this size."""


class CacheRegion(Generic[V]):
    """The cache of one type of value.

    Parameters
    ----------
    manager
        The cache manager that owns the levels.
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
    """

    __slots__ = (
        "_manager",
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
        manager: CacheManager,
        kind: str,
        *,
        policy: CachePolicy,
        value_type: Any,
        levels: tuple[CacheLevel, ...],
        shared: tuple[SharedLevel, ...],
        stats: RegionStats,
    ) -> None:
        self._manager = manager
        self.guild_keys = GuildKeys(self)
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

    def group(self, guild_id: int | None) -> str:
        """Return the tag of every key of this type in ``guild_id``."""
        return group_tag(self.kind, guild_id)

    async def get(self, key: CacheKey[V]) -> V | Miss | None:
        """See :meth:`CacheManager.get`."""
        return await self._manager.get(key)

    async def get_or_load(self, key: CacheKey[V], loader: Callable[[], Awaitable[V | None]]) -> V | None:
        """See :meth:`CacheManager.get_or_load`."""
        return await self._manager.get_or_load(key, loader)

    async def set(self, key: CacheKey[V], value: V | None, ttl: float | None = None) -> None:
        """See :meth:`CacheManager.set`."""
        await self._manager.set(key, value, ttl)

    async def invalidate(self, key: CacheKey[V]) -> None:
        """Invalidate one key of this region."""
        await self._manager.invalidate(key)

    async def invalidate_guild(self, guild_id: int | None) -> None:
        """Invalidate every key of this type in ``guild_id`` (one atomic step)."""
        await self._manager.invalidate(f"{self.group(guild_id)}:*")


class GuildKeys(dict[int, CacheKey[V]]):
    """The memo of a region's per-guild keys; a missing one is built, and the memo is bounded."""

    def __init__(self, region: CacheRegion[V]) -> None:
        super().__init__()
        self._region = region

    def __missing__(self, guild_id: int) -> CacheKey[V]:
        if len(self) >= GUILD_KEY_MEMO_SIZE:
            self.clear()
        region = self._region
        key = self[guild_id] = CacheKey(region, guild_id, key_name(region.kind, guild_id, ()))
        return key
