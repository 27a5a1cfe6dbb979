"""``AfkRepository``: one AFK entry per member and guild, replaced atomically, expired ones listed.

The key is ``(member_id, guild_id)`` in ``find_by_id``/``update``/``delete`` whatever the order of the
table's key columns: member first, as Tux's AFK and levels controllers take it (shared with ``levels``,
see :data:`~tux.database.repositories.support.MEMBER_KEY`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, cast

from sqlalchemy import select

from tux.database.caching import names as n
from tux.database.exceptions import ValidationError
from tux.database.models import AFK
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.cached_common import given, member_first, member_seam
from tux.database.repositories.cached_specs import Change, invalidates, uncached
from tux.database.repositories.interfaces import IAfkRepository
from tux.database.repositories.support import (
    MEMBER_KEY,
    checked,
    insert_guild_if_missing,
    page_size,
    upsert_returning,
)
from tux.database.repositories.validation import column_specs, validate_payload


class AfkRepository(SQLAlchemyRepository[AFK], IAfkRepository):
    """AFK entries; ``find_by_id``, ``update`` and ``delete`` take ``(member_id, guild_id)``."""

    model = AFK
    identity_fields: ClassVar[tuple[str, ...] | None] = MEMBER_KEY
    cache_seam = member_seam(n.AFK, n.AFK_UPDATE, member_first)  # key afk:<guild>:<member>

    @invalidates(n.AFK_UPDATE, lambda result, data: [Change(n.AFK_UPDATE, given(data, "guild_id"))])
    async def set_afk(self, data: Mapping[str, object]) -> AFK:
        """Create the member's AFK entry, or replace it whole if there is one.

        ``data`` holds at least ``guild_id``, ``member_id``, ``nickname`` and ``reason``. Fields left out
        take their defaults (``since`` now, ``until`` none, flags off) also when an entry is replaced,
        so nothing of the previous AFK leaks into the new one. One native upsert, after making sure the
        guild row exists in the same session.

        Raises
        ------
        ValidationError
            On a missing, unknown or ill-typed field, before any SQL runs.
        """
        values = validate_payload(AFK, data, partial=False)
        replaced = [name for name in column_specs(AFK) if name not in self._pk_names]
        statement = upsert_returning(self._insert().values(values), self._pk_names, replaced, AFK)
        async with self._sessions.writing() as session:
            await insert_guild_if_missing(self._sessions, session, cast("int", values["guild_id"]))
            return cast("AFK", (await session.scalars(statement)).one())

    @invalidates(
        n.AFK_UPDATE,
        lambda result, *, guild_id, member_id: (
            [] if result is False else [Change(n.AFK_UPDATE, guild_id, member_id)]
        ),
    )
    async def remove(self, *, guild_id: int, member_id: int) -> bool:
        """Delete the member's AFK entry; return whether there was one."""
        return await self.delete((member_id, guild_id))

    @uncached
    async def find_expired(self, now: datetime, limit: int = 100) -> list[AFK]:
        """Return timed entries whose ``until`` is at or before ``now``, soonest first.

        Raises
        ------
        ValidationError
            If ``now`` is naive or ``limit`` is not a positive integer.
        """
        page_size(limit)
        moment = checked(AFK, "until", now)
        if moment is None:
            raise ValidationError("now: expected an aware datetime")
        statement = (
            select(AFK)
            .where(AFK.until.is_not(None), AFK.until <= moment)
            .order_by(AFK.until, AFK.guild_id, AFK.member_id)
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        async with self._sessions.reading() as session:
            return list((await session.scalars(statement)).all())
