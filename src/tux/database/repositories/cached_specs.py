"""The vocabulary of the cache tables: lookups served from the cache, writes and the changes they state.

A table (:mod:`~tux.database.repositories.cached_tables`) says, per repository interface, which read
methods the cache serves (:class:`Lookup`: how to build the key from the call's arguments, how to load
the row, what to return from it), which reads go straight to the database, and for every write method
which :class:`Change` it makes, from its arguments and its result. The wrapper
(:mod:`~tux.database.repositories.cached`) turns that into methods, and refuses a repository that has a
method the table does not name, so a new write path cannot silently skip invalidation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from tux.database.caching.region import CacheKey, CacheRegion
from tux.database.core.ids import INT64_MAX
from tux.database.models.base import Base


class _Failed:
    """Type of :data:`FAILED`."""

    def __repr__(self) -> str:
        return "FAILED"


FAILED: Final = _Failed()
"""The "result" a write's change function gets when the write raised (its outcome is unknown)."""


@dataclass(frozen=True, slots=True)
class Change:
    """A write's statement of what it changed: ``event`` in ``guild_id``, for ``user_id``.

    ``None`` means unknown and widens the invalidation: without a member the event drops the guild's
    groups of its types, without a guild every guild's.
    """

    event: str
    guild_id: object = None
    user_id: object = None


KeyBuilder = Callable[..., CacheKey[Any] | None]
"""``(region, *args, **kwargs)`` of a call -> its key, or ``None`` when the call is not cacheable."""
RowLoader = Callable[..., Awaitable[Any]]
"""``(repository, *args, **kwargs)`` -> the model instance (or ``None``) to cache for the call."""
Changes = Callable[..., Iterable[Change]]
"""``(result, *args, **kwargs)`` of a write -> what it changed (``result`` is :data:`FAILED` on error)."""


@dataclass(frozen=True, slots=True)
class Write:
    """A write method's declaration: the events it reports, and how it derives its changes.

    ``events`` is what the start-up checks (:mod:`~tux.database.repositories.cached_checks`) hold
    against the policies; ``changes`` must report only those events.
    """

    events: tuple[str, ...]
    changes: Changes

    def __call__(self, result: object, *args: Any, **kwargs: Any) -> Iterable[Change]:
        """Return what a call of the write changed (``result`` is :data:`FAILED` when it raised)."""
        return self.changes(result, *args, **kwargs)


@dataclass(frozen=True, slots=True)
class Lookup:
    """A read the cache serves.

    Parameters
    ----------
    key
        Builds the key; returns ``None`` for arguments that are not plain positive ids (those calls go
        to the repository, which validates them as it always does).
    load
        Loads the model instance to cache; default: the method itself with the same arguments.
    project
        Turns the cached row into what the method returns; default: the thawed model instance. It may
        get the cached row itself (a guild row's memory hit), so it reads it and never changes it.
    per_guild
        The key is the guild key of the call's only argument (a guild-keyed row): a call with one
        positional snowflake is served from memory without calling ``key``.
    kind
        Cache type of the values when they are not single rows of the table (their own region).
    shape
        What the method returns: ``"row"`` (a model instance or ``None``), ``"page"`` (a list of
        model instances, kept as a tuple of row tuples) or a type such as ``int`` (a plain immutable
        value, kept as it is; ``None`` is cached as "not found").
    """

    key: KeyBuilder
    load: RowLoader | None = None
    project: Callable[[Any], Any] | None = None
    per_guild: bool = False
    kind: str | None = None
    shape: Any = "row"


@dataclass(frozen=True, slots=True)
class CacheTable:
    """Everything the cache does for one repository interface.

    Parameters
    ----------
    kind
        Cache type of the rows (``None``: the repository has no cached reads, only writes to report).
    model
        The model whose rows are cached.
    lookups
        Reads served from the cache.
    reads
        Reads that always go to the database (lists, counts, filtered searches, ...).
    writes
        Every writing method, the events it reports and the changes it makes.
    """

    kind: str | None
    model: type[Base] | None
    lookups: Mapping[str, Lookup] = field(default_factory=lambda: MappingProxyType({}))
    reads: frozenset[str] = frozenset()
    writes: Mapping[str, Write] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def kinds(self) -> frozenset[str]:
        """Every cache kind the table's lookups fill."""
        kinds = (lookup.kind or self.kind for lookup in self.lookups.values())
        return frozenset(kind for kind in kinds if kind is not None)


def key_of(region: CacheRegion[Any], guild_id: object, *parts: object) -> CacheKey[Any] | None:
    """Return the key of ``parts`` in ``guild_id`` if ids are plain snowflakes and names are text.

    The checks are :func:`~tux.database.core.ids.is_snowflake` written out: this runs on every cache hit.
    """
    if type(guild_id) is not int or not 0 < guild_id <= INT64_MAX:
        return None
    for part in parts:
        if type(part) is int:
            if not 0 < part <= INT64_MAX:
                return None
        elif type(part) is not str:
            return None
    return region.key(guild_id, *parts)  # type: ignore[arg-type]  # checked just above


def pair(identity: object, *, member_first: bool) -> tuple[object, object]:
    """Return ``(guild, member)`` of a composite identity, or ``(None, None)`` if it is not a pair.

    The identity is a tuple in the table's order or a mapping of ``guild_id`` and ``member_id``.
    """
    if not isinstance(identity, tuple) or len(identity) != 2:
        if isinstance(identity, Mapping) and identity.keys() == {"guild_id", "member_id"}:
            return identity["guild_id"], identity["member_id"]
        return None, None
    first, second = identity
    return (second, first) if member_first else (first, second)
