"""Start-up checks of a repository's cache table against the policies: a wrong seam fails ``Database(...)``.

Without them a misspelled kind silently takes the default policy and is never invalidated, an event
without a rule raises on the first write (caught, logged, and the whole cache flushed), and a write
whose event drops none of its table's kinds leaves stale entries until their TTL runs out.
"""

from __future__ import annotations

from collections.abc import Callable

from tux.database.caching.config import CacheConfig
from tux.database.exceptions import ConfigurationError
from tux.database.repositories.cached_specs import CacheTable


def check_table(
    name: str, table: CacheTable, config: CacheConfig, kinds_of: Callable[[str], frozenset[str] | None]
) -> None:
    """Raise ``ConfigurationError`` naming the first declaration that does not fit the policies.

    Parameters
    ----------
    name
        The wrapped interface's name, to name the culprit.
    table
        The repository's cache table.
    config
        The cache's policies.
    kinds_of
        The kinds an event invalidates, or ``None`` for an event without a rule.
    """
    for kind in sorted(table.kinds):
        if kind not in config.policies:
            raise ConfigurationError(
                f"{name}: cache kind {kind!r} has no policy (known: {sorted(config.policies)})"
            )
    dropped: set[str] = set()
    for method, write in table.writes.items():
        for event in write.events:
            kinds = kinds_of(event)
            if kinds is None:
                raise ConfigurationError(f"{name}.{method}: event {event!r} has no invalidation rule")
            mine = kinds & table.kinds if table.kinds else kinds
            if not mine:
                raise ConfigurationError(
                    f"{name}.{method}: event {event!r} invalidates none of {sorted(table.kinds)}"
                )
            dropped |= mine
    for kind in sorted(table.kinds - dropped):
        raise ConfigurationError(f"{name}: no declared write invalidates cache kind {kind!r}")
