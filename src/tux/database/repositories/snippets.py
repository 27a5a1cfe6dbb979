"""``SnippetRepository``: case-insensitive names, alias resolution in SQL and an atomic use counter.

Every name lookup compares ``lower(snippet_name)`` with ``lower(:name)``, the expression of the unique
index ``uq_snippet_guild_id_lower_snippet_name``, so lookups are index probes and "Foo" and "foo" are the
same snippet. An alias stores its target's name in ``alias``; resolution follows exactly one hop, in the
same statement as the lookup, so a cog never sees a half-resolved alias.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import BigInteger, ColumnElement, Select, String, and_, bindparam, func, select, update
from sqlalchemy.orm import aliased

from tux.database.caching import names as n
from tux.database.core.statements import Statement
from tux.database.models import Snippet
from tux.database.repositories.base import SQLAlchemyRepository, row_columns
from tux.database.repositories.cached_common import surrogate_writes
from tux.database.repositories.cached_specs import CacheSeam, Change, cached, invalidates, key_of, uncached
from tux.database.repositories.filters import check_window
from tux.database.repositories.interfaces import ISnippetRepository
from tux.database.repositories.validation import coerce_value, field_spec


def _guild(guild_id: object) -> int:
    return cast("int", coerce_value(field_spec(Snippet, "guild_id"), guild_id))


def _name(name: object) -> str:
    """Check a looked-up name like a stored one (text, no NUL, at most 100 characters)."""
    return cast("str", coerce_value(field_spec(Snippet, "snippet_name"), name))


def _named(guild_id: int, name: str) -> list[ColumnElement[bool]]:
    return [Snippet.guild_id == guild_id, func.lower(Snippet.snippet_name) == func.lower(name)]


def _resolution(guild_id: Any, name: Any) -> tuple[Select[tuple[Snippet]], Select[tuple[int]]]:
    """Return ``(the target row, the target's id)`` queries for ``name`` in ``guild_id``.

    ``source`` is the snippet called ``name``; ``target`` is the snippet named by ``source.alias``, or
    ``source`` itself when it is not an alias. A target that is itself an alias is not followed (the
    service forbids alias chains), so such a chain, like an alias whose target is gone, yields no row.
    """
    source = aliased(Snippet, name="snippet_source")
    target = aliased(Snippet, name="snippet_target")
    hop = and_(
        target.guild_id == source.guild_id,
        func.lower(target.snippet_name) == func.lower(func.coalesce(source.alias, source.snippet_name)),
    )
    where = (
        source.guild_id == guild_id,
        func.lower(source.snippet_name) == func.lower(name),
        target.alias.is_(None),
    )
    rows = select(target).join(source, hop).where(*where)
    ids = select(target.snippet_id).join(source, hop).where(*where)
    return rows, ids


_USE = Statement(
    update(Snippet)
    .where(
        Snippet.snippet_id
        == _resolution(bindparam("in_guild", type_=BigInteger), bindparam("named", type_=String))[
            1
        ].scalar_subquery()
    )
    .values(uses=Snippet.uses + 1)
    .returning(*row_columns(Snippet)),
    writes=True,
)
"""The use counter (see :meth:`SnippetRepository.use`)."""


class SnippetRepository(SQLAlchemyRepository[Snippet], ISnippetRepository):
    """Snippets and aliases of one or many guilds."""

    model = Snippet
    cache_seam = CacheSeam(kind=n.SNIPPETS, writes=surrogate_writes(n.SNIPPET_UPDATE))  # by guild and name

    @cached(key=lambda region, guild_id, name: key_of(region, guild_id, "name", name))
    async def find_by_name(self, guild_id: int, name: str) -> Snippet | None:
        """Return the snippet called ``name`` in any letter case, without following an alias."""
        statement = (
            select(Snippet)
            .where(*_named(_guild(guild_id), _name(name)))
            .execution_options(populate_existing=True)
        )
        async with self._sessions.reading() as session:
            return (await session.scalars(statement)).one_or_none()

    @cached(key=lambda region, guild_id, name: key_of(region, guild_id, "resolve", name))
    async def resolve(self, guild_id: int, name: str) -> Snippet | None:
        """Return the snippet ``name`` stands for: itself, or its alias target (one hop).

        ``None`` when there is no such name, when the alias target no longer exists, or when the target
        is itself an alias.
        """
        rows, _ = _resolution(_guild(guild_id), _name(name))
        async with self._sessions.reading() as session:
            return (await session.scalars(rows.execution_options(populate_existing=True))).one_or_none()

    @invalidates(
        n.SNIPPET_UPDATE,
        lambda result, guild_id, name: [] if result is None else [Change(n.SNIPPET_UPDATE, guild_id)],
    )
    async def use(self, guild_id: int, name: str) -> Snippet | None:
        """Resolve ``name`` and add one to the target's ``uses``, returning the updated target.

        One ``UPDATE ... SET uses = uses + 1 WHERE snippet_id = (resolution) RETURNING``: the database
        serializes concurrent uses on the row lock, so none is lost.
        """
        used = await self._instances(_USE, {"in_guild": _guild(guild_id), "named": _name(name)})
        return used[0] if used else None

    @uncached
    async def aliases_of(self, guild_id: int, name: str) -> list[Snippet]:
        """Return the aliases whose target is ``name`` (any letter case), by lower-cased name."""
        statement = (
            select(Snippet)
            .where(Snippet.guild_id == _guild(guild_id), func.lower(Snippet.alias) == func.lower(_name(name)))
            .order_by(func.lower(Snippet.snippet_name))
            .execution_options(populate_existing=True)
        )
        async with self._sessions.reading() as session:
            return list((await session.scalars(statement)).all())

    @uncached
    async def list_by_guild(
        self, guild_id: int, *, after_name: str | None = None, limit: int = 50
    ) -> list[Snippet]:
        """Return a page of the guild's snippets ordered by ``lower(snippet_name)``.

        Pass the last name of a page as ``after_name`` for the next one; names are unique
        case-insensitively, so the order has no ties and no row is skipped or repeated.
        """
        check_window(limit, None)
        where: list[Any] = [Snippet.guild_id == _guild(guild_id)]
        if after_name is not None:
            where.append(func.lower(Snippet.snippet_name) > func.lower(_name(after_name)))
        statement = (
            select(Snippet)
            .where(*where)
            .order_by(func.lower(Snippet.snippet_name))
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        async with self._sessions.reading() as session:
            return list((await session.scalars(statement)).all())
