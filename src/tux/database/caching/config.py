"""Cache policy: how long each type of value lives, where, and which events invalidate it.

Defaults (guild config 1 h in memory and Redis, user levels 5 min in memory, cases and snippets 30 min
in memory and Redis) weigh how often each changes against how often a bot reads it. Every policy also
has a negative TTL (how long a "no such row" answer is kept) and the events that invalidate it, either
one key (built from the event's fields) or the type's whole group in the event's guild.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

from tux.database.caching import names as n
from tux.database.caching.keys import check_kind
from tux.database.caching.types import CacheLevel
from tux.database.exceptions import ValidationError
from tux.database.settings import DatabaseSettings

MEMORY = CacheLevel.MEMORY
REDIS = CacheLevel.REDIS
DATABASE = CacheLevel.DATABASE

EventRules = Mapping[str, tuple[str, ...] | None]
"""Event name -> names of the event fields that build the key (``None``: the whole group)."""


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """Caching rules of one type of value.

    Parameters
    ----------
    ttl
        Seconds a found value is kept.
    negative_ttl
        Seconds a "not found" answer is kept; 0 does not cache it.
    levels
        Levels the type is cached in.
    invalidated_by
        Events that invalidate the type: event name -> key fields, or ``None`` for the guild's group.
    database_fallback
        Use the DATABASE level in place of REDIS when no Redis is configured (for values that are
        expensive to compute).
    jitter
        Fraction of the TTL randomly taken off each entry, so entries filled together do not expire
        together and cause a burst of reloads.
    """

    ttl: float
    negative_ttl: float
    levels: frozenset[CacheLevel]
    invalidated_by: EventRules = field(default_factory=lambda: MappingProxyType({}))
    database_fallback: bool = False
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.ttl <= 0 or self.negative_ttl < 0:
            raise ValidationError("ttl must be > 0 and negative_ttl >= 0")
        if not 0 <= self.jitter < 1:
            raise ValidationError("jitter must be in [0, 1)")
        object.__setattr__(self, "levels", frozenset(self.levels))
        object.__setattr__(self, "invalidated_by", MappingProxyType(dict(self.invalidated_by)))

    def entry_ttl(self, *, found: bool) -> float:
        """Return the lifetime of one new entry: the TTL (or negative TTL) minus a random jitter."""
        ttl = self.ttl if found else self.negative_ttl
        return ttl * (1.0 - self.jitter * random.random())  # spreads expiries; not security

    def effective_levels(self, *, redis: bool, database: bool) -> tuple[CacheLevel, ...]:
        """Return the levels to use, fastest first, given which backends are configured."""
        wanted = set(self.levels)
        if REDIS in wanted and not redis:
            wanted.discard(REDIS)
            if self.database_fallback:
                wanted.add(DATABASE)
        if not database:
            wanted.discard(DATABASE)
        return tuple(level for level in CacheLevel if level in wanted)


def _policy(
    ttl: float, negative_ttl: float, levels: set[CacheLevel], rules: EventRules, **extra: Any
) -> CachePolicy:
    return CachePolicy(ttl, negative_ttl, frozenset(levels), rules, **extra)


_STANDINGS_RULES: EventRules = {n.XP_UPDATE: None, n.LEVELS_CONFIG_UPDATE: None}
"""Leaderboards and ranks: an XP change (or blacklisting) anywhere in the guild reorders them."""

DEFAULT_POLICIES: Mapping[str, CachePolicy] = MappingProxyType(
    {
        n.GUILD_CONFIG: _policy(3600, 300, {MEMORY, REDIS}, {n.GUILD_CONFIG_UPDATE: None}),
        n.USER_LEVELS: _policy(300, 60, {MEMORY}, {n.XP_UPDATE: ("user_id",)}),
        n.CASES: _policy(1800, 60, {MEMORY, REDIS}, {n.CASE_UPDATE: None}),
        n.SNIPPETS: _policy(1800, 120, {MEMORY, REDIS}, {n.SNIPPET_UPDATE: None}),
        n.MEMBER_STATUS: _policy(600, 600, {MEMORY, REDIS}, {n.MEMBER_STATUS_UPDATE: ("user_id",)}),
        n.AFK: _policy(600, 600, {MEMORY, REDIS}, {n.AFK_UPDATE: None}),
        n.STARBOARD: _policy(1800, 300, {MEMORY, REDIS}, {n.STARBOARD_UPDATE: None}),
        n.LEVELS_LEADERBOARD: _policy(120, 30, {MEMORY, REDIS}, _STANDINGS_RULES, database_fallback=True),
        n.LEVELS_RANK: _policy(120, 30, {MEMORY, REDIS}, _STANDINGS_RULES, database_fallback=True),
        n.CASE_STATS: _policy(600, 60, {MEMORY, REDIS}, {n.CASE_UPDATE: None}, database_fallback=True),
        n.LEVELS_MESSAGE: _policy(
            300, 60, {MEMORY, REDIS}, {n.XP_UPDATE: ("user_id",), n.LEVELS_CONFIG_UPDATE: None}
        ),
        n.LEVELS_REWARDS: _policy(3600, 300, {MEMORY, REDIS}, {n.LEVELS_CONFIG_UPDATE: None}),
    }
)
"""Policies per type. AFK is invalidated per guild (its whole group): AFK writes are rare, so one rule
serves every write whether or not it names the member. Leaderboard pages, ranks and case counts are
expensive to compute in a large guild, so without Redis they are kept in the cache table; any XP change
(any case change) in the guild invalidates them. A member's XP decision inputs (``levels_message``) are
dropped by the member's awards (any XP or blacklist change of the member) and by any change of the
guild's levelling setup; a guild's role rewards (``levels_rewards``) are read on every level-up."""

DEFAULT_POLICY = _policy(300, 60, {MEMORY}, {})
"""Policy of a type that has none configured: short-lived and local."""


@dataclass(frozen=True, slots=True)
class CacheConfig:
    """Everything the cache needs to know besides where Redis and the database are.

    Timeouts are in seconds. The Redis timeouts are short on purpose: the cache is an optimization, and
    a dead or blackholed Redis must cost a caller milliseconds, not seconds. The memory level's default
    budget, 32 MiB, keeps a bot process's cache under 50 MB with room for everything else it holds: it
    bounds the cache's resident memory, key memos and allocator headroom included (about 57,000 guild
    configs; :mod:`~tux.database.caching.budget`).
    """

    enabled: bool = True
    policies: Mapping[str, CachePolicy] = field(default_factory=lambda: DEFAULT_POLICIES)
    default_policy: CachePolicy = DEFAULT_POLICY
    memory_max_entries: int = 100_000
    memory_max_bytes: int = 32 * 1024 * 1024
    redis_socket_timeout: float = 0.1
    redis_connect_timeout: float = 0.1
    breaker_failure_threshold: int = 2
    probe_interval: float = 0.25
    probe_max_interval: float = 5.0
    bus_ping_interval: float = 1.0
    bus_ping_timeout: float = 1.0
    lease_ttl: float = 5.0
    fill_max_age: float = 30.0
    guard_margin: float = 60.0
    tag_ttl: float = 7 * 24 * 3600.0
    database_purge_interval: float = 300.0
    flush_on_start: bool = True
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    """The per-kind overrides applied so far: :meth:`with_defaults` applies them again on top of a
    repository's declared default policy."""

    def __post_init__(self) -> None:
        for name in self.policies:
            check_kind(name)
        object.__setattr__(self, "policies", MappingProxyType(dict(self.policies)))
        if self.memory_max_entries < 1 or self.memory_max_bytes < 1:
            raise ValidationError("memory bounds must be positive")

    def uses_database(self, *, redis: bool) -> bool:
        """Whether some policy keeps values in the DATABASE level, given whether Redis is configured."""
        policies = (*self.policies.values(), self.default_policy)
        return any(DATABASE in policy.effective_levels(redis=redis, database=True) for policy in policies)

    def policy(self, kind: str) -> CachePolicy:
        """Return the policy of ``kind`` (the default policy when none is configured)."""
        return self.policies.get(kind, self.default_policy)

    def with_policy(self, kind: str, **changes: Any) -> CacheConfig:
        """Return a copy where ``kind``'s policy has ``changes`` applied (an unknown field raises)."""
        known = {item.name for item in fields(CachePolicy)}
        unknown = set(changes) - known
        if unknown:
            raise ValidationError(f"unknown cache policy fields {sorted(unknown)}; known: {sorted(known)}")
        if "levels" in changes:
            changes["levels"] = frozenset(_level(level) for level in changes["levels"])
        updated = replace(self.policy(check_kind(kind)), **changes)
        return replace(self, policies={**self.policies, kind: updated})

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]]) -> CacheConfig:
        """Apply ``{kind: {field: value}}`` overrides, e.g. parsed from a settings field."""
        config = self
        for kind, changes in overrides.items():
            config = config.with_policy(kind, **changes)
        merged = {
            kind: {**self.overrides.get(kind, {}), **overrides.get(kind, {})}
            for kind in {*self.overrides, *overrides}
        }
        return replace(config, overrides=MappingProxyType(merged))

    def with_defaults(self, policies: Mapping[str, CachePolicy]) -> CacheConfig:
        """Return a copy that has ``policies`` for the kinds it does not configure itself.

        A repository declares the default policy of a kind it adds (its cache seam); a kind configured
        here keeps its policy, and the overrides given for a kind apply on top of its declared default.
        """
        config = self
        for kind, policy in policies.items():
            if kind in self.policies and kind not in self.overrides:
                continue
            config = replace(config, policies={**config.policies, check_kind(kind): policy})
            config = config.with_policy(kind, **self.overrides.get(kind, {}))
        return config

    @classmethod
    def from_settings(
        cls,
        settings: DatabaseSettings,
        overrides: Mapping[str, Mapping[str, Any]] | None = None,
        **options: Any,
    ) -> CacheConfig:
        """Build the config from ``settings.cache_enabled`` plus per-type ``overrides`` and ``options``."""
        return cls(enabled=settings.cache_enabled, **options).with_overrides(overrides or {})


def _level(level: CacheLevel | str) -> CacheLevel:
    try:
        return level if isinstance(level, CacheLevel) else CacheLevel(level)
    except ValueError as error:
        raise ValidationError(f"unknown cache level {level!r}") from error
