"""``CachedRepository``: the cache in front of a repository, generated from its table.

The registry calls :class:`CacheWrapper` once per registration; for an interface with a table in
:mod:`~tux.database.repositories.cached_tables` it returns a :class:`CachedRepository` subclass of that
interface (so ``isinstance`` and the registry's typing hold) whose methods are made from the table:

* a **lookup** is served from the cache outside a unit of work (``CacheManager.peek``, the memory
  level without a coroutine, then ``CacheManager.load``) and goes to the repository inside one
  (values there may be uncommitted, and a task must read its own writes). The cache holds the row
  frozen, or a page of rows as tuples (:mod:`~tux.database.repositories.cached_rows`); each call gets
  them thawed into new detached model instances, so a hit returns what the database read returns, and
  "not found" is cached too. A memory hit of one guild's row (guild config, prefix) is served by the
  memory level's guild reader without any further call;
* a **write** runs, then hands the changes its table entry derives from the arguments and the result to
  :class:`Invalidator`, which registers their invalidation with ``sessions.after_commit``: queued
  until the outermost commit and dropped on rollback, or run at once outside a transaction. A write
  that raised may have committed (a lost connection during ``COMMIT``, a cancellation), so its changes
  are still reported, widened where the result was needed; only bad input (validation errors,
  arguments that do not fit the method), which never reaches SQL, is not;
* every other table-named method goes straight to the repository. A repository with a public coroutine
  method its table does not name is refused, so no write can bypass invalidation.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any, TypeVar, cast

from loguru import logger

from tux.database.caching.invalidation import CacheInvalidationManager
from tux.database.caching.keys import EPOCH_TAG, Targets, group_tag, kind_of
from tux.database.caching.manager import CacheManager
from tux.database.caching.types import MISS
from tux.database.core.ids import is_snowflake
from tux.database.core.session import NO_UNITS, SessionProvider, open_units
from tux.database.exceptions import ConfigurationError, DatabaseError, ValidationError
from tux.database.repositories.cached_checks import check_tables
from tux.database.repositories.cached_rows import RowCodec
from tux.database.repositories.cached_specs import FAILED, CacheTable, Change, Changes, Lookup
from tux.database.repositories.cached_tables import CACHE_TABLES

Method = Callable[..., Coroutine[Any, Any, Any]]
T = TypeVar("T")
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


class CachedRepository:
    """Base of the generated wrappers: holds the repository and forwards its plain attributes.

    Coroutine methods are never forwarded implicitly: each one the table names is generated.
    """

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped

    @property
    def wrapped(self) -> Any:
        """The repository behind the cache."""
        return self._wrapped

    def __getattr__(self, name: str) -> Any:
        if name == "_wrapped":  # not set yet (e.g. during copy): no recursion
            raise AttributeError(name)
        value = getattr(self._wrapped, name)
        if inspect.iscoroutinefunction(value):
            raise AttributeError(f"{type(self).__name__} has no cached or forwarded method {name!r}")
        return value

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._wrapped!r})"


class CacheWrapper:
    """The registry's wrapper: puts the cache in front of every repository that has a table.

    Parameters
    ----------
    cache
        The ``Database``'s cache.
    sessions
        The session provider the repositories use (tells whether a unit of work is open).
    invalidation
        Event rules (default: from the cache's policies).
    tables
        The cache table of each interface, checked against the policies here
        (:func:`~tux.database.repositories.cached_checks.check_tables`).

    Raises
    ------
    ConfigurationError
        If a table names a kind without a policy or an event without a rule, or declares a write whose
        event drops none of its kinds.
    """

    def __init__(
        self,
        cache: CacheManager,
        sessions: SessionProvider,
        invalidation: CacheInvalidationManager | None = None,
        tables: Mapping[type[Any], CacheTable] = CACHE_TABLES,
    ) -> None:
        self._cache = cache
        self._sessions = sessions
        self._invalidator = Invalidator(cache, invalidation)
        self._tables = tables
        check_tables(tables, cache.config, self._invalidator.kinds_of)

    def __call__(self, interface: type[T], repository: T, /) -> T:
        """Return ``repository`` behind the cache, or as it is when its interface has no table."""
        table = self._tables.get(interface)
        if table is None:
            return repository
        _check_coverage(type(repository), table)
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
        namespace = {**methods, "__module__": __name__}
        cls = type(f"Cached{type(repository).__name__}", (CachedRepository, interface), namespace)
        return cast(T, cls(repository))  # a subclass of interface, made just above

    def _looking_up(self, name: str, lookup: Lookup, kind: str, codec: RowCodec[Any]) -> Method:
        value_type, freeze, project = _shape(lookup, codec)
        region = self._cache.region(lookup.kind or kind, value_type)
        build_key = lookup.key
        load = lookup.load
        current = self._sessions.current
        peek = self._cache.peek
        load_missing = self._cache.load

        async def load_row(repository: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
            method = getattr(repository, name) if load is None else functools.partial(load, repository)
            instance = await method(*args, **kwargs)
            return None if instance is None else freeze(instance)

        async def read(self: CachedRepository, *args: Any, **kwargs: Any) -> Any:
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
        return self._cache.memory.guild_reader(region, thaw, sessions=self._sessions, fallback=read)

    def _writing(self, name: str, changes: Changes) -> Method:
        invalidator = self._invalidator
        sessions = self._sessions

        def targets(result: object, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Targets:
            try:
                return invalidator.targets(changes(result, *args, **kwargs))
            except Exception as error:  # noqa: BLE001 - a table bug must not leave stale entries
                if isinstance(error, TypeError) and result is FAILED:
                    return Targets()  # the arguments do not fit the method: it never ran
                logger.opt(exception=True).error("cache table of {} failed; flushing the cache", name)
                return Targets(tags=(EPOCH_TAG,))

        async def write(self: CachedRepository, *args: Any, **kwargs: Any) -> Any:
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


def _shape(lookup: Lookup, codec: RowCodec[Any]) -> tuple[Any, Callable[[Any], Any], Callable[[Any], Any]]:
    """Return how a lookup's values are typed, kept (from what the repository returned) and returned."""
    if lookup.shape == "row":
        return codec.value_type, codec.freeze, lookup.project or codec.thaw
    if lookup.shape == "page":
        return codec.page_type, codec.freeze_page, lookup.project or codec.thaw_page
    return lookup.shape, _same, lookup.project or _same


def _same(value: Any) -> Any:
    return value


def _forwarding(name: str) -> Method:
    async def forward(self: CachedRepository, *args: Any, **kwargs: Any) -> Any:
        return await getattr(self._wrapped, name)(*args, **kwargs)

    return forward


def _public_coroutines(cls: type[Any]) -> set[str]:
    return {
        name
        for name in dir(cls)
        if not name.startswith("_") and inspect.iscoroutinefunction(getattr(cls, name, None))
    }


def _check_coverage(cls: type[Any], table: CacheTable) -> None:
    """Refuse a repository whose coroutine methods and table disagree (a write could skip invalidation)."""
    named = set(table.lookups) | set(table.reads) | set(table.writes)
    implemented = _public_coroutines(cls)
    if implemented != named:
        raise ConfigurationError(
            f"cache table of {cls.__name__} is out of date: not in the table "
            f"{sorted(implemented - named)}, not in the repository {sorted(named - implemented)}"
        )


def _describe(method: Method, interface: type[Any], cls: type[Any], name: str) -> None:
    """Give a generated method the name, docs and signature of the method it stands for."""
    original = getattr(interface, name, None) or getattr(cls, name)
    functools.update_wrapper(method, original, updated=())  # not __dict__: it holds __isabstractmethod__
