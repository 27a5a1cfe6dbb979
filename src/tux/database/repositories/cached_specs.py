"""The cache seam's vocabulary: a repository declares, beside each method, what the cache does with it.

A repository that is cached sets :class:`CacheSeam` (its kind, and the declarations of the methods it
inherits) and marks each of its own coroutine methods: :func:`cached` (a read the cache serves: how to
build the key from the call's arguments, how to load the row, what to return from it),
:func:`uncached` (a read that goes straight to the database) or :func:`invalidates` (a write, and the
:class:`Change` it makes, from its arguments and its result). :func:`table_of` collects them into the
repository's :class:`CacheTable`; the wrapper (:mod:`~tux.database.repositories.cached`) turns that
into methods, and refuses a repository with a public coroutine method nothing declares, so a new write
path cannot silently skip invalidation. The markers only set an attribute: the plain repository runs
exactly as written.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, TypeVar

from tux.database.caching.region import CacheKey, CacheRegion
from tux.database.core.ids import INT64_MAX
from tux.database.exceptions import ConfigurationError

if TYPE_CHECKING:
    from tux.database.caching.config import CachePolicy
    from tux.database.models.base import Base

F = TypeVar("F", bound=Callable[..., object])
V = TypeVar("V")


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
RowLoader = Callable[..., Awaitable[object]]
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

    def __call__(self, result: object, *args: object, **kwargs: object) -> Iterable[Change]:
        """Return what a call of the write changed (``result`` is :data:`FAILED` when it raised)."""
        return self.changes(result, *args, **kwargs)


def _nothing(*_: object, **__: object) -> list[Change]:
    return []


NO_CHANGE = Write((), _nothing)
"""A write that changes nothing cached (a guild row, a case-number counter)."""


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
    project: Callable[[Any], object] | None = None
    per_guild: bool = False
    kind: str | None = None
    shape: object = "row"


@dataclass(frozen=True, slots=True)
class CacheTable:
    """Everything the cache does for one repository, collected from its declarations by :func:`table_of`.

    ``kind``, ``model`` and ``policies`` are the :class:`CacheSeam`'s (``model`` resolved); ``lookups``,
    ``reads`` and ``writes`` hold every public coroutine method of the repository, inherited or its own.
    """

    kind: str | None
    model: type[Base] | None
    lookups: Mapping[str, Lookup] = field(default_factory=lambda: MappingProxyType({}))
    reads: frozenset[str] = frozenset()
    writes: Mapping[str, Write] = field(default_factory=lambda: MappingProxyType({}))
    policies: Mapping[str, CachePolicy] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def kinds(self) -> frozenset[str]:
        """Every cache kind the table's lookups fill."""
        kinds = (lookup.kind or self.kind for lookup in self.lookups.values())
        return frozenset(kind for kind in kinds if kind is not None)


class _Read:
    """Type of :data:`READ`."""

    def __repr__(self) -> str:
        return "READ"


READ: Final = _Read()
"""The declaration of a read that always goes to the database (lists, counts, filtered searches)."""

Declaration = Lookup | Write | _Read
_MARK = "__cache_seam__"


@dataclass(frozen=True, slots=True)
class CacheSeam:
    """A cached repository's class-level declaration: its kind, and what its inherited methods do.

    Parameters
    ----------
    kind
        Cache kind of the rows (``None``: the repository has no cached reads, only writes to report).
    lookups
        Inherited reads the cache serves (``find_by_id``); the repository's own are marked :func:`cached`.
    writes
        Inherited writes (``create``, ``update``, ``upsert``, ``delete``) and the changes they make; the
        repository's own are marked :func:`invalidates`.
    model
        The model of the cached rows when it is not the repository's ``model``.
    policies
        Default policies of kinds the cache's configuration does not set (a new table's kinds); settings
        overrides still apply on top.
    """

    kind: str | None
    lookups: Mapping[str, Lookup] = field(default_factory=lambda: MappingProxyType({}))
    writes: Mapping[str, Write] = field(default_factory=lambda: MappingProxyType({}))
    model: type[Base] | None = None
    policies: Mapping[str, CachePolicy] = field(default_factory=lambda: MappingProxyType({}))


def _declare(declaration: Declaration) -> Callable[[F], F]:
    def mark(method: F) -> F:
        setattr(method, _MARK, declaration)
        return method

    return mark


def cached(
    key: KeyBuilder,
    *,
    load: RowLoader | None = None,
    project: Callable[[Any], object] | None = None,
    per_guild: bool = False,
    kind: str | None = None,
    shape: object = "row",
) -> Callable[[F], F]:
    """Mark a read the cache serves; the parameters are :class:`Lookup`'s."""
    return _declare(Lookup(key, load, project, per_guild, kind, shape))


def invalidates(event: str, changes: Changes) -> Callable[[F], F]:
    """Mark a write that reports ``event``; ``changes(result, *args, **kwargs)`` says where."""
    return _declare(Write((event,), changes))


def changes_nothing(method: F) -> F:
    """Mark a write that changes nothing cached (a guild row, a case-number counter)."""
    return _declare(NO_CHANGE)(method)


def uncached(method: F) -> F:
    """Mark a read that always goes to the database."""
    return _declare(READ)(method)


def public_coroutines(cls: type) -> set[str]:
    """Return the names of ``cls``'s public coroutine methods (what a cached repository must declare)."""
    return {
        name
        for name in dir(cls)
        if not name.startswith("_") and inspect.iscoroutinefunction(getattr(cls, name, None))
    }


def table_of(cls: type) -> CacheTable | None:
    """Return the cache table ``cls`` declares, or ``None`` for a repository that is not cached.

    Raises
    ------
    ConfigurationError
        If a public coroutine method is declared nowhere (a write could skip invalidation), the seam
        names a method the repository lacks, or a method is declared both by a marker and by the seam.
    """
    seam: CacheSeam | None = getattr(cls, "cache_seam", None)
    if seam is None:
        return None
    implemented = public_coroutines(cls)
    marked = {name: getattr(getattr(cls, name), _MARK, None) for name in implemented}
    declared: dict[str, Declaration] = {name: mark for name, mark in marked.items() if mark is not None}
    inherited: dict[str, Declaration] = {**seam.lookups, **seam.writes}
    for name, declaration in inherited.items():
        if isinstance(declared.get(name), Lookup | Write):
            raise ConfigurationError(f"{cls.__name__}.{name} is declared twice: by a marker and by its seam")
        declared[name] = declaration
    if set(declared) != implemented:
        undeclared, missing = sorted(implemented - set(declared)), sorted(set(declared) - implemented)
        raise ConfigurationError(
            f"cache declarations of {cls.__name__} are out of date: not declared {undeclared}, "
            f"not in the repository {missing}"
        )
    lookups = {name: item for name, item in declared.items() if isinstance(item, Lookup)}
    return CacheTable(
        kind=seam.kind,
        model=seam.model or getattr(cls, "model", None),
        lookups=MappingProxyType(lookups),
        reads=frozenset(name for name, item in declared.items() if item is READ),
        writes=MappingProxyType({name: item for name, item in declared.items() if isinstance(item, Write)}),
        policies=seam.policies,
    )


def key_of(region: CacheRegion[V], guild_id: object, *parts: object) -> CacheKey[V] | None:
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
