"""``CachedRepository``: the cache in front of a repository, generated from its declarations.

The registry calls :class:`CacheWrapper` once per registration; for a repository that declares a
:class:`~tux.database.repositories.cached_specs.CacheSeam` it returns a :class:`CachedRepository`
subclass of the interface (so ``isinstance`` and the registry's typing hold) whose methods are made
from the repository's table (:func:`~tux.database.repositories.cached_specs.table_of`):

* a **lookup** is served from the cache outside a unit of work (``CacheManager.peek``, the memory
  level without a coroutine, then ``CacheManager.load``) and goes to the repository inside one
  (values there may be uncommitted, and a task must read its own writes). The cache holds the row
  frozen, or a page of rows as tuples (:mod:`~tux.database.repositories.cached_rows`); each call gets
  them thawed into new detached model instances, so a hit returns what the database read returns, and
  "not found" is cached too. A memory hit of one guild's row (guild config, prefix) is served by the
  guild reader (:mod:`~tux.database.repositories.cached_guild`) without any further call;
* a **write** runs, then hands the changes its table entry derives from the arguments and the result to
  :class:`Invalidator`, which registers their invalidation with ``sessions.after_commit``: queued
  until the outermost commit and dropped on rollback, or run at once outside a transaction. A write
  that raised may have committed (a lost connection during ``COMMIT``, a cancellation), so its changes
  are still reported, widened where the result was needed; only bad input (validation errors,
  arguments that do not fit the method), which never reaches SQL, is not;
* every other declared method goes straight to the repository. A repository with a public coroutine
  method nothing declares is refused, so no write can bypass invalidation.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, Generic, TypeVar, cast

from loguru import logger

from tux.database.caching.config import CachePolicy
from tux.database.caching.invalidation import CacheInvalidationManager
from tux.database.caching.keys import EPOCH_TAG, Targets, group_tag, kind_of
from tux.database.caching.manager import CacheManager
from tux.database.caching.types import MISS
from tux.database.core.ids import is_snowflake
from tux.database.core.session import NO_UNITS, SessionProvider, open_units
from tux.database.exceptions import DatabaseError, ValidationError
from tux.database.models.base import Base
from tux.database.repositories.cached_checks import check_table
from tux.database.repositories.cached_guild import Method, guild_reader
from tux.database.repositories.cached_rows import RowCodec
from tux.database.repositories.cached_specs import FAILED, CacheTable, Change, Changes, Lookup, table_of

T = TypeVar("T")
R = TypeVar("R")
_NOT_SENT = ValidationError
"""Bad input is refused before any SQL is built: such a write changed nothing."""


class Invalidator:
    """Turns the changes writes report into invalidations, by the invalidation manager's rules.

    Parameters
    ----------
    cache
        The cache to invalidate.
    invalidation
        Maps events to what they make stale (default: the rules of the cache's policies).
    """

    def __init__(self, cache: CacheManager, invalidation: CacheInvalidationManager | None = None) -> None:
        self._cache = cache
        self._invalidation = invalidation if invalidation is not None else CacheInvalidationManager(cache)
        self._kinds: dict[str, tuple[tuple[str, ...], bool]] = {}

    def targets(self, changes: Iterable[Change]) -> Targets:
        """Return everything ``changes`` make stale, as one invalidation."""
        names: dict[str, None] = {}
        tags: dict[str, None] = {}
        for change in changes:
            found = self._targets(change)
            names.update(dict.fromkeys(found.names))
            tags.update(dict.fromkeys(found.tags))
        return Targets(tuple(names), tuple(tags))

    async def after_commit(self, sessions: SessionProvider, targets: Targets) -> None:
        """Invalidate ``targets`` once the current transaction commits (now, outside one)."""
        if targets:
            await sessions.after_commit(functools.partial(self._cache.invalidate_targets, targets))

    def _targets(self, change: Change) -> Targets:
        kinds, per_member = self._kinds_of(change.event)
        guild, member = change.guild_id, change.user_id
        if not is_snowflake(guild):
            return Targets(tags=kinds)  # unknown guild: the types in every guild
        if is_snowflake(member):
            return self._invalidation.targets(change.event, guild_id=guild, user_id=member)
        if per_member:  # unknown member: the types' groups in the guild
            return Targets(tags=tuple(group_tag(kind, guild) for kind in kinds))
        return self._invalidation.targets(change.event, guild_id=guild)

    def register(self, kind: str, policy: CachePolicy) -> None:
        """Make the events of ``policy`` invalidate ``kind`` (a kind a repository declares the policy of)."""
        for event, key_fields in policy.invalidated_by.items():
            self._invalidation.register(event, kind, key_fields)
        self._kinds.clear()

    def kinds_of(self, event: str) -> frozenset[str] | None:
        """Return the kinds ``event`` invalidates, or ``None`` when no rule knows it."""
        if event not in self._invalidation.events:
            return None
        return frozenset(self._kinds_of(event)[0])

    def _kinds_of(self, event: str) -> tuple[tuple[str, ...], bool]:
        """Return the types ``event`` invalidates and whether it drops some of them per member."""
        known = self._kinds.get(event)
        if known is None:
            probe = self._invalidation.targets(event, guild_id=1, user_id=1)
            kinds = tuple(sorted({kind_of(target) for target in (*probe.names, *probe.tags)}))
            known = self._kinds[event] = (kinds, bool(probe.names))
        return known


class CachedRepository(Generic[R]):
    """Base of the generated wrappers: holds the repository and forwards its plain attributes.

    Coroutine methods are never forwarded implicitly: each one the table names is generated.
    """

    cache_table: ClassVar[CacheTable]
    """The table the wrapper was generated from (``db.batch`` derives its invalidations from it)."""

    def __init__(self, wrapped: R) -> None:
        self._wrapped = wrapped

    @property
    def wrapped(self) -> R:
        """The repository behind the cache."""
        return self._wrapped

    def __getattr__(self, name: str) -> object:
        if name == "_wrapped":  # not set yet (e.g. during copy): no recursion
            raise AttributeError(name)
        value = getattr(self._wrapped, name)
        if inspect.iscoroutinefunction(value):
            raise AttributeError(f"{type(self).__name__} has no cached or forwarded method {name!r}")
        return value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._wrapped!r})"


class CacheWrapper:
    """The registry's wrapper: puts the cache in front of every repository that declares a cache seam.

    Parameters
    ----------
    cache
        The ``Database``'s cache.
    sessions
        The session provider the repositories use (tells whether a unit of work is open).
    invalidation
        Event rules (default: from the cache's policies).

    Each repository's table is checked against the policies when it is wrapped
    (:func:`~tux.database.repositories.cached_checks.check_table`): a wrong declaration fails
    ``Database(...)``, naming the culprit.
    """

    def __init__(
        self,
        cache: CacheManager,
        sessions: SessionProvider,
        invalidation: CacheInvalidationManager | None = None,
    ) -> None:
        self._cache = cache
        self._sessions = sessions
        self._invalidator = Invalidator(cache, invalidation)

    def __call__(self, interface: type[T], repository: T, /) -> T:
        """Return ``repository`` behind the cache, or as it is when it declares no cache seam.

        Raises
        ------
        ConfigurationError
            If its declarations are out of date or do not fit the cache's policies.
        """
        table = table_of(type(repository))
        if table is None:
            return repository
        for kind, policy in self._cache.adopt_policies(table.policies).items():
            self._invalidator.register(kind, policy)
        check_table(interface.__name__, table, self._cache.config, self._invalidator.kinds_of)
        methods: dict[str, Method] = {name: _forwarding(name) for name in table.reads}
        methods |= {name: self._writing(name, changes) for name, changes in table.writes.items()}
        if table.lookups:
            assert table.kind is not None  # a table with lookups names its kind and model
            assert table.model is not None
            codec = RowCodec(table.model)
            for name, lookup in table.lookups.items():
                methods[name] = self._looking_up(name, lookup, table.kind, codec)
        for name, method in methods.items():
            _describe(method, interface, type(repository), name)
        namespace = {**methods, "__module__": __name__, "cache_table": table}
        cls = type(f"Cached{type(repository).__name__}", (CachedRepository, interface), namespace)
        return cast(T, cls(repository))  # a subclass of interface, made just above

    def _looking_up(self, name: str, lookup: Lookup, kind: str, codec: RowCodec[Base]) -> Method:
        value_type, freeze, project = _shape(lookup, codec)
        region = self._cache.region(lookup.kind or kind, value_type)
        build_key = lookup.key
        load = lookup.load
        current = self._sessions.current
        peek = self._cache.peek
        load_missing = self._cache.load

        async def load_row(repository: object, args: tuple[object, ...], kwargs: dict[str, object]) -> object:
            method = getattr(repository, name) if load is None else functools.partial(load, repository)
            instance = await method(*args, **kwargs)
            return None if instance is None else freeze(instance)

        async def read(self: CachedRepository[object], *args: object, **kwargs: object) -> object:
            if open_units() is NO_UNITS or current() is None:
                key = build_key(region, *args, **kwargs)
                if key is not None:
                    row = peek(key)
                    if row is MISS:
                        loader = functools.partial(load_row, self._wrapped, args, kwargs)
                        row = await load_missing(key, loader)
                    return None if row is None else project(row)
            return await getattr(self._wrapped, name)(*args, **kwargs)

        if not lookup.per_guild:
            return read
        thaw = codec.thaw if lookup.shape == "row" and lookup.project is None else project
        return guild_reader(self._cache.memory, region, thaw, sessions=self._sessions, fallback=read)

    def _writing(self, name: str, changes: Changes) -> Method:
        invalidator = self._invalidator
        sessions = self._sessions

        def targets(result: object, args: tuple[object, ...], kwargs: dict[str, object]) -> Targets:
            try:
                return invalidator.targets(changes(result, *args, **kwargs))
            except Exception as error:  # noqa: BLE001 - a table bug must not leave stale entries
                if isinstance(error, TypeError) and result is FAILED:
                    return Targets()  # the arguments do not fit the method: it never ran
                logger.opt(exception=True).error("cache table of {} failed; flushing the cache", name)
                return Targets(tags=(EPOCH_TAG,))

        async def write(self: CachedRepository[object], *args: object, **kwargs: object) -> object:
            try:
                result = await getattr(self._wrapped, name)(*args, **kwargs)
            except _NOT_SENT:
                raise
            except BaseException:
                try:
                    await invalidator.after_commit(sessions, targets(FAILED, args, kwargs))
                except DatabaseError as error:  # e.g. the transaction belongs to another task
                    logger.debug("invalidation after the failed {} not registered: {}", name, error)
                raise
            await invalidator.after_commit(sessions, targets(result, args, kwargs))
            return result

        return write


def _shape(
    lookup: Lookup, codec: RowCodec[Base]
) -> tuple[object, Callable[[Any], object], Callable[[Any], object]]:
    """Return how a lookup's values are typed, kept (from what the repository returned) and returned."""
    if lookup.shape == "row":
        return codec.value_type, codec.freeze, lookup.project or codec.thaw
    if lookup.shape == "page":
        return codec.page_type, codec.freeze_page, lookup.project or codec.thaw_page
    return lookup.shape, _same, lookup.project or _same


def _same(value: object) -> object:
    return value


def _forwarding(name: str) -> Method:
    async def forward(self: CachedRepository[object], *args: object, **kwargs: object) -> object:
        return await getattr(self._wrapped, name)(*args, **kwargs)

    return forward


def _describe(method: Method, interface: type, cls: type, name: str) -> None:
    """Give a generated method the name, docs and signature of the method it stands for."""
    original = getattr(interface, name, None) or getattr(cls, name)
    functools.update_wrapper(method, original, updated=())  # not __dict__: it holds __isabstractmethod__
