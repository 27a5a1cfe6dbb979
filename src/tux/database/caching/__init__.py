"""Multi-level cache of the data layer: memory, Redis and the cache table, never stale.

Repositories hold a :class:`CacheRegion` per cached type (``cache.region("guild_config", Snapshot)``),
build keys with ``region.key(guild_id, *parts)``, read with ``cache.get_or_load(key, loader)`` outside
units of work, and report writes with :class:`CacheInvalidationManager` after commit.
"""

from __future__ import annotations

from tux.database.caching.config import CacheConfig, CachePolicy
from tux.database.caching.invalidation import CacheInvalidationManager, InvalidationRule
from tux.database.caching.keys import CacheKey, Targets
from tux.database.caching.manager import CacheLevel, CacheManager
from tux.database.caching.region import CacheRegion
from tux.database.caching.stats import CacheStatsSnapshot, TypeStats
from tux.database.caching.types import MISS, Miss

__all__ = [
    "MISS",
    "CacheConfig",
    "CacheInvalidationManager",
    "CacheKey",
    "CacheLevel",
    "CacheManager",
    "CachePolicy",
    "CacheRegion",
    "CacheStatsSnapshot",
    "InvalidationRule",
    "Miss",
    "Targets",
    "TypeStats",
]
