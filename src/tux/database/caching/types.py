"""Small shared vocabulary of the cache: its levels and the sentinels that tell a miss from a hit."""

from __future__ import annotations

import enum
from typing import Final, Literal


class CacheLevel(enum.Enum):
    """Where a value can be cached, from the fastest to the slowest."""

    MEMORY = "memory"
    REDIS = "redis"
    DATABASE = "database"


class _Miss(enum.Enum):
    MISS = "miss"


class _NotFound(enum.Enum):
    NOT_FOUND = "not_found"


MISS: Final = _Miss.MISS
"""Returned by lookups when no level holds the key; distinct from a cached "not found"."""

Miss = Literal[_Miss.MISS]
"""The type of :data:`MISS`, for annotations."""

NOT_FOUND: Final = _NotFound.NOT_FOUND
"""What the levels store for a lookup whose answer is "no such row"; callers see ``None``."""

NotFound = Literal[_NotFound.NOT_FOUND]
"""The type of :data:`NOT_FOUND`, for annotations."""


class StoreResult(enum.Enum):
    """Outcome of a conditional fill of a shared level."""

    STORED = "stored"
    REFUSED = "refused"
    """An invalidation happened since the fill began: the value may be stale and was not stored."""
    SKIPPED = "skipped"
    """The level was unavailable or failed; nothing is known about the key."""
