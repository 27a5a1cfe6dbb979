"""The guild-row fast path: a memory hit of one guild's row (its config, its prefix) in one frame.

A guild's config is read on every message, so its cached lookups skip the general read path on a memory
hit: the method reads the memory level's shared entries itself, by the guild key its region memoizes,
with no key building, no further call and no coroutine besides its own. It lives with the wrapper that
builds the cached methods, not in the memory level, which knows nothing of repositories or sessions.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

from tux.database.caching.memory import MemoryLevel
from tux.database.caching.region import CacheRegion
from tux.database.caching.types import NOT_FOUND
from tux.database.core.session import NO_UNITS, SessionProvider, open_units

Method = Callable[..., Awaitable[object]]
"""A generated repository method: ``method(owner, *args, **kwargs)``."""
_NO_ARGUMENT: Final = object()
"""Default of a guild reader's first parameter: tells "not given" from any value."""

_monotonic = time.monotonic


def guild_reader(
    memory: MemoryLevel,
    region: CacheRegion[Any],
    thaw: Callable[[Any], object],
    *,
    sessions: SessionProvider,
    fallback: Method,
) -> Method:
    """Return an async method that serves the guild values of ``region`` from ``memory``.

    ``method(owner, guild_id)``, with one positional guild id whose key ``region`` has built before,
    outside a unit of work, is answered here on a hit: ``thaw`` of the stored value (which it must not
    change: it copies what it hands out), or ``None`` for a cached "not found". Every other call, each
    miss or expired entry, and a mutable value (kept apart, with its copier), is ``fallback`` with the
    same arguments. For a region kept out of memory the method is ``fallback`` itself.
    """
    if not region.memory:
        return fallback
    entries = memory.shared_entries
    guild_keys = region.guild_keys
    stats = region.stats
    current = sessions.current

    async def read(
        owner: object, guild_id: object = _NO_ARGUMENT, /, *args: object, **kwargs: object
    ) -> object:
        if (
            not args
            and not kwargs
            and type(guild_id) is int
            and (key := guild_keys.get(guild_id)) is not None
            and (entry := entries.get(key.name)) is not None
            and entry > _monotonic()
            and (open_units() is NO_UNITS or current() is None)
        ):
            entry.visited = True
            stats.memory_hits += 1
            value = entry.value
            if value is NOT_FOUND:
                stats.negative_hits += 1
                return None
            return thaw(value)
        if guild_id is _NO_ARGUMENT:
            return await fallback(owner, *args, **kwargs)
        return await fallback(owner, guild_id, *args, **kwargs)

    return read
