"""``CacheInvalidationManager``: domain events mapped to the keys and groups they make stale.

Services and repositories say *what happened* (``xp_update`` for guild 1, user 2) and the rules, taken
from each type's policy, say *what to drop*: one key built from the event's fields, or the type's whole
group in the guild. Every target of one event goes out as one invalidation: a single ``DEL`` of guard
and group stamps in Redis and one bus message, never a scan. ``guild_delete`` drops every type's group
in the guild.

The cached repositories (:class:`~tux.database.repositories.cached.Invalidator`) and ``db.batch`` turn
:meth:`targets` into invalidations after the commit: invalidating before it lets a concurrent reader
cache the old row again.
"""

from __future__ import annotations

from dataclasses import dataclass

from tux.database.caching.config import CacheConfig
from tux.database.caching.keys import Targets, check_kind, group_tag, key_name
from tux.database.caching.manager import CacheManager
from tux.database.caching.names import GUILD_DELETE
from tux.database.exceptions import ValidationError


@dataclass(frozen=True, slots=True)
class InvalidationRule:
    """What one event drops of one type: the key built from ``key_fields``, or the guild's group."""

    kind: str
    key_fields: tuple[str, ...] | None = None

    def target(self, guild_id: int | None, fields: dict[str, str | int]) -> Targets:
        """Return what this rule drops for an event with ``fields`` in ``guild_id``."""
        if self.key_fields is None:
            return Targets(tags=(group_tag(self.kind, guild_id),))
        missing = [name for name in self.key_fields if name not in fields]
        if missing:
            raise ValidationError(f"invalidation of {self.kind} needs the event fields {missing}")
        return Targets(names=(key_name(self.kind, guild_id, tuple(fields[n] for n in self.key_fields)),))


class CacheInvalidationManager:
    """Turns events into invalidations of one cache manager.

    Parameters
    ----------
    cache
        The cache to invalidate.
    config
        Policies whose ``invalidated_by`` rules are loaded (default: the cache's own config).
    """

    def __init__(self, cache: CacheManager, config: CacheConfig | None = None) -> None:
        self._cache = cache
        self._config = config if config is not None else cache.config
        self._rules: dict[str, list[InvalidationRule]] = {}
        for kind, policy in self._config.policies.items():
            for event, key_fields in policy.invalidated_by.items():
                self.register(event, kind, key_fields)

    @property
    def events(self) -> frozenset[str]:
        """Every event that has a rule (plus ``guild_delete``)."""
        return frozenset({*self._rules, GUILD_DELETE})

    def register(self, event: str, kind: str, key_fields: tuple[str, ...] | None = None) -> None:
        """Make ``event`` invalidate ``kind``: the key built from ``key_fields``, or the guild's group."""
        rule = InvalidationRule(check_kind(kind), key_fields)
        rules = self._rules.setdefault(event, [])
        if rule not in rules:
            rules.append(rule)

    def targets(self, event: str, *, guild_id: int | None, **fields: str | int) -> Targets:
        """Return everything ``event`` invalidates; unknown events and missing fields raise."""
        if event == GUILD_DELETE:
            kinds = sorted(
                {*self._config.policies, *(r.kind for rules in self._rules.values() for r in rules)}
            )
            return Targets(tags=tuple(group_tag(kind, guild_id) for kind in kinds))
        rules = self._rules.get(event)
        if rules is None:
            raise ValidationError(f"unknown cache event {event!r}; known: {sorted(self.events)}")
        names: list[str] = []
        tags: list[str] = []
        for rule in rules:
            target = rule.target(guild_id, fields)
            names += target.names
            tags += target.tags
        return Targets(tuple(dict.fromkeys(names)), tuple(dict.fromkeys(tags)))
