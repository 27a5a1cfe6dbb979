"""Cache declarations several repositories share: the generic CRUD writes and the common lookups.

Keys carry the guild id (``kind:guild:parts``), so a value of one guild is never served for another.
Rows keyed by a surrogate id (cases, snippets) are cached under their natural key (guild + number,
guild + name) only; a write that names such a row by its surrogate id and cannot tell its guild (a
delete, which returns only a flag) invalidates the type in every guild: correct, and rare.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tux.database.core.ids import is_snowflake
from tux.database.repositories.cached_specs import (
    FAILED,
    CacheSeam,
    Change,
    Changes,
    F,
    Lookup,
    Write,
    cached,
    key_of,
    pair,
)

if TYPE_CHECKING:
    from tux.database.caching.region import CacheKey, CacheRegion

Place = tuple[object, object]
"""``(guild_id, member_id)`` of a row; ``None`` where unknown."""


def given(data: object, name: str | None) -> object:
    """Return field ``name`` of a write's ``data`` mapping, or ``None`` (unknown) when it is not there."""
    return data.get(name) if name is not None and isinstance(data, Mapping) else None


def emits(event: str, **changes: Changes) -> dict[str, Write]:
    """Declare write methods that report ``event``: method name -> how it derives its changes."""
    return {name: Write((event,), derive) for name, derive in changes.items()}


def natural_writes(
    event: str, of_id: Callable[[object], Place], guild_field: str, member_field: str | None = None
) -> dict[str, Write]:
    """The generic writes of a table keyed by its guild (and member): changes from the key or the data.

    An ``update`` whose data moves the row to another key changes both places.
    """

    def from_data(data: object) -> Change:
        return Change(event, given(data, guild_field), given(data, member_field))

    def update(result: object, id: object, data: object) -> list[Change]:  # noqa: A002
        if result is None:
            return []
        moved = isinstance(data, Mapping) and any(name in data for name in (guild_field, member_field))
        return [Change(event, *of_id(id)), *([from_data(data)] if moved else [])]

    return emits(
        event,
        create=lambda result, data: [from_data(data)],
        upsert=lambda result, data, **_: [from_data(data)],
        update=update,
        delete=lambda result, id: [] if result is False else [Change(event, *of_id(id))],  # noqa: A006
    )


def surrogate_writes(event: str) -> dict[str, Write]:
    """The generic writes of a table keyed by a surrogate id (the guild is in the data or the result).

    A delete, or an update that moves a row to another guild, does not tell the old guild: every guild's
    entries of the type are invalidated.
    """

    def update(result: object, id: object, data: object) -> list[Change]:  # noqa: A002
        if result is None:
            return []
        if result is FAILED or (isinstance(data, Mapping) and "guild_id" in data):
            return [Change(event)]
        return [Change(event, getattr(result, "guild_id", None))]

    return emits(
        event,
        create=lambda result, data: [Change(event, given(data, "guild_id"))],
        upsert=lambda result, data, **_: [Change(event)],
        update=update,
        delete=lambda result, id: [] if result is False else [Change(event)],  # noqa: A006
    )


def guild_of(identity: object) -> Place:
    """Place of a row keyed by its guild alone."""
    return identity, None


def member_first(identity: object) -> Place:
    """Place of a ``(member_id, guild_id)`` identity (afk, levels)."""
    return pair(identity, member_first=True)


def guild_first(identity: object) -> Place:
    """Place of a ``(guild_id, member_id)`` identity (member status)."""
    return pair(identity, member_first=False)


def guild_key(region: CacheRegion[object], guild_id: object) -> CacheKey[object] | None:
    """Key of a per-guild row (a memory hit of a positional id never gets here: the guild reader)."""
    return region.guild_keys[guild_id] if is_snowflake(guild_id) else None


def member_key(
    region: CacheRegion[object], *, guild_id: object, member_id: object
) -> CacheKey[object] | None:
    """Key of a member's value in a guild, for methods that take both by keyword."""
    return key_of(region, guild_id, member_id)


def _id_key(region: CacheRegion[object], id: object) -> CacheKey[object] | None:  # noqa: A002 - IRepository's name
    return guild_key(region, id)


BY_GUILD = Lookup(key=_id_key, per_guild=True)
"""``find_by_id`` of a table keyed by the guild id: served by the guild reader on a memory hit."""


def by_pair(of_id: Callable[[object], Place]) -> Lookup:
    """``find_by_id`` of a table keyed by guild and member, whose identity ``of_id`` reads."""
    return Lookup(key=lambda region, id: key_of(region, *of_id(id)))  # noqa: A006


def member_seam(kind: str, event: str, of_id: Callable[[object], Place]) -> CacheSeam:
    """The seam of a table keyed by guild and member: ``find_by_id`` cached, the CRUD writes report ``event``.

    ``of_id`` reads the table's composite identity (:func:`member_first` or :func:`guild_first`).
    """
    return CacheSeam(
        kind=kind,
        lookups={"find_by_id": by_pair(of_id)},
        writes=natural_writes(event, of_id, "guild_id", "member_id"),
    )


def guild_seam(kind: str, event: str, guild_field: str) -> CacheSeam:
    """The seam of a table keyed by the guild id: ``find_by_id`` cached, the CRUD writes report ``event``.

    A memory hit of the row is served by the guild reader (:mod:`~tux.database.repositories.cached_guild`).
    """
    return CacheSeam(
        kind=kind, lookups={"find_by_id": BY_GUILD}, writes=natural_writes(event, guild_of, guild_field)
    )


def from_guild_row(project: Callable[[Any], object]) -> Callable[[F], F]:
    """Mark a read answered from the guild row ``find_by_id`` caches (one entry serves them all)."""
    return cached(
        key=guild_key,
        load=lambda repository, guild_id: repository.find_by_id(guild_id),
        project=project,
        per_guild=True,
    )
