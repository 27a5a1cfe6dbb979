"""``LevelsRepository``: XP per member with atomic increments, a keyset leaderboard and ranks in SQL."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.orm import aliased

from tux.database.caching import names as n
from tux.database.core.statements import Statement
from tux.database.exceptions import ValidationError
from tux.database.models import Levels
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.cached_common import member_first, member_key, member_seam
from tux.database.repositories.cached_specs import Change, cached, invalidates, key_of
from tux.database.repositories.filters import check_window
from tux.database.repositories.interfaces import ILevelsRepository
from tux.database.repositories.support import (
    GUILD_IF_MISSING,
    MAX_PAGE_SIZE,
    MEMBER_KEY,
    checked,
    finite_number,
    insert_for,
)

if TYPE_CHECKING:
    from tux.database.caching.region import CacheKey, CacheRegion


def _add_xp(dialect: str) -> Any:
    insert = insert_for(dialect, Levels).values(
        guild_id=bindparam("guild_id"), member_id=bindparam("member_id"), xp=bindparam("amount")
    )
    return insert.on_conflict_do_update(
        index_elements=["guild_id", "member_id"], set_={"xp": Levels.xp + insert.excluded.xp}
    ).returning(Levels.xp)


_ADD_XP = Statement(_add_xp, writes=True)
_PAGE_SIZE = inspect.signature(ILevelsRepository.leaderboard).parameters["limit"].default
"""The leaderboard's default page size, as the interface declares it (the key must name the size)."""


def _first_page_key(
    region: CacheRegion[object], guild_id: object, *, limit: object = _PAGE_SIZE, after: object = None
) -> CacheKey[object] | None:
    """Key of a leaderboard's first page (what the leaderboard command shows); later pages go to SQL.

    A limit that is not a valid page size gets no key, so the repository refuses it before any SQL
    (the cache table would otherwise be read, and stamped, for a call that can never be answered).
    """
    if after is not None or type(limit) is not int or not 1 <= limit <= MAX_PAGE_SIZE:
        return None
    return key_of(region, guild_id, "top", limit)


def _member_xp(result: object, *, guild_id: object, member_id: object, **_: object) -> list[Change]:
    return [Change(n.XP_UPDATE, guild_id, member_id)]


class LevelsRepository(SQLAlchemyRepository[Levels], ILevelsRepository):
    """XP and levels; ``find_by_id``, ``update`` and ``delete`` take ``(member_id, guild_id)``."""

    model = Levels
    identity_fields: ClassVar[tuple[str, ...] | None] = MEMBER_KEY
    cache_seam = member_seam(n.USER_LEVELS, n.XP_UPDATE, member_first)  # key user_levels:<guild>:<member>

    @staticmethod
    def _key(guild_id: object, member_id: object) -> tuple[int, int]:
        return cast("int", checked(Levels, "guild_id", guild_id)), cast(
            "int", checked(Levels, "member_id", member_id)
        )

    @invalidates(n.XP_UPDATE, _member_xp)
    async def add_xp(self, *, guild_id: int, member_id: int, amount: float) -> float:
        """Add ``amount`` XP to the member, creating the row (and guild) if needed; return the new total.

        One native upsert, ``INSERT ... ON CONFLICT DO UPDATE SET xp = levels.xp + excluded.xp
        RETURNING xp``: concurrent calls queue on the row lock and none is lost.

        Raises
        ------
        ValidationError
            If ``amount`` is not a finite number >= 0.
        """
        guild, member = self._key(guild_id, member_id)
        value = finite_number("amount", amount, minimum=0.0)
        runner = self._sessions.runner
        async with runner.atomic():
            await runner.count(GUILD_IF_MISSING, {"guild_id": guild})
            row = await runner.one(_ADD_XP, {"guild_id": guild, "member_id": member, "amount": value})
        assert row is not None  # an upsert always returns its row
        return float(row["xp"])

    @invalidates(n.XP_UPDATE, _member_xp)
    async def set_xp(self, *, guild_id: int, member_id: int, xp: float, level: int) -> Levels:
        """Set XP and level together (an admin override or a level-up), creating the row if needed."""
        guild, member = self._key(guild_id, member_id)
        values = {"xp": finite_number("xp", xp, minimum=0.0), "level": checked(Levels, "level", level)}
        if values["level"] < 0:
            raise ValidationError(f"level: expected an integer >= 0, got {level!r}")
        return await self._upsert_member(guild, member, values)

    @invalidates(n.XP_UPDATE, _member_xp)
    async def set_blacklisted(self, *, guild_id: int, member_id: int, blacklisted: bool) -> Levels:
        """Set whether the member is left out of XP and the leaderboard, creating the row if needed."""
        guild, member = self._key(guild_id, member_id)
        return await self._upsert_member(
            guild, member, {"blacklisted": checked(Levels, "blacklisted", blacklisted)}
        )

    async def _upsert_member(self, guild: int, member: int, values: dict[str, Any]) -> Levels:
        row = {"guild_id": guild, "member_id": member, **values}
        return await self._upsert_row(row, ("guild_id", "member_id"), tuple(values), guild=guild)

    @cached(key=_first_page_key, kind=n.LEVELS_LEADERBOARD, shape="page")
    async def leaderboard(
        self, guild_id: int, *, limit: int = 10, after: tuple[float, int] | None = None
    ) -> list[Levels]:
        """Return non-blacklisted members by XP descending, then member id ascending.

        ``after`` is the ``(xp, member_id)`` of the last row of the previous page (keyset pagination:
        the next page costs the same however deep it is, and concurrent XP gains never repeat a row
        within one ordering).
        """
        check_window(limit, None)
        where: list[ColumnElement[bool]] = [
            Levels.guild_id == checked(Levels, "guild_id", guild_id),
            ~Levels.blacklisted,
        ]
        if after is not None:
            if not isinstance(after, tuple) or len(after) != 2:
                raise ValidationError("after: expected the (xp, member_id) of the previous page's last row")
            last_xp = finite_number("after[0]", after[0], minimum=0.0)
            last_member = checked(Levels, "member_id", after[1])
            where.append(or_(Levels.xp < last_xp, and_(Levels.xp == last_xp, Levels.member_id > last_member)))
        statement = (
            select(Levels)
            .where(*where)
            .order_by(Levels.xp.desc(), Levels.member_id.asc())
            .limit(limit)
            .execution_options(populate_existing=True)
        )
        async with self._sessions.reading() as session:
            return list((await session.scalars(statement)).all())

    @cached(key=member_key, kind=n.LEVELS_RANK, shape=int)
    async def rank(self, *, guild_id: int, member_id: int) -> int | None:
        """Return the member's 1-based position in :meth:`leaderboard` order, computed in one query.

        ``None`` when the member has no row or is blacklisted.
        """
        guild, member = self._key(guild_id, member_id)
        other = aliased(Levels, name="levels_other")
        ahead = (
            select(func.count())
            .select_from(other)
            .where(
                other.guild_id == Levels.guild_id,
                ~other.blacklisted,
                or_(other.xp > Levels.xp, and_(other.xp == Levels.xp, other.member_id < Levels.member_id)),
            )
            .scalar_subquery()
        )
        statement = select(ahead + 1).where(
            Levels.guild_id == guild, Levels.member_id == member, ~Levels.blacklisted
        )
        async with self._sessions.reading() as session:
            position = await session.scalar(statement)
        return None if position is None else int(position)
