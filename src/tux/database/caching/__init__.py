"""Multi-level cache of the data layer: memory, Redis and the cache table, never stale.

The cached repositories (:mod:`~tux.database.repositories.cached`) hold a :class:`CacheRegion` per
cached kind (``cache.region("guild_config", value_type)``), build keys with
``region.key(guild_id, *parts)``, read with ``cache.peek(key)`` then ``cache.load(key, loader)``
outside units of work, and turn what each write reports into invalidations by the
:class:`CacheInvalidationManager`'s rules, after the commit.
"""

from __future__ import annotations

from tux.database.caching.config import CacheConfig, CachePolicy
from tux.database.caching.invalidation import CacheInvalidationManager, InvalidationRule
from tux.database.caching.keys import Targets
from tux.database.caching.manager import CacheLevel, CacheManager
from tux.database.caching.region import CacheKey, CacheRegion
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
