"""``LevelsConfigRepository``: a guild's XP rules and the three small tables that hang off it.

Role rewards, role multipliers and blacklisted channels are keyed by the guild plus the role/channel,
so every write is a native upsert (or an insert-if-missing) that two concurrent admins cannot turn into
a duplicate-key error, and every insert first makes sure the guild row exists in the same session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql

from tux.database.caching import names as n
from tux.database.exceptions import ValidationError
from tux.database.models import LevelChannelBlacklist, LevelRoleMultiplier, LevelRoleReward, LevelsConfig
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.cached_common import guild_of, natural_writes
from tux.database.repositories.cached_specs import CacheSeam, Change, cached, invalidates, key_of, uncached
from tux.database.repositories.interfaces import ILevelsConfigRepository
from tux.database.repositories.support import (
    checked,
    finite_number,
    insert_guild_if_missing,
    upsert_returning,
)


def _guild_setup(result: object, guild_id: object, *_: object, **__: object) -> list[Change]:
    return [Change(n.LEVELS_CONFIG_UPDATE, guild_id)]


if TYPE_CHECKING:
    from sqlalchemy.dialects import sqlite


class LevelsConfigRepository(SQLAlchemyRepository[LevelsConfig], ILevelsConfigRepository):
    """Levelling settings; the generic methods act on ``levels_config`` (keyed by guild id)."""

    model = LevelsConfig
    cache_seam = CacheSeam(
        kind=n.LEVELS_REWARDS,  # key levels_rewards:<guild>:rewards
        model=LevelRoleReward,
        writes=natural_writes(n.LEVELS_CONFIG_UPDATE, guild_of, "guild_id"),
    )

    def _insert_into(
        self, model: type[LevelRoleReward] | type[LevelRoleMultiplier] | type[LevelChannelBlacklist]
    ) -> postgresql.Insert | sqlite.Insert:
        if self._sessions.is_sqlite:
            from sqlalchemy.dialects import sqlite  # noqa: PLC0415 - only on the SQLite backend

            return sqlite.insert(model)
        return postgresql.insert(model)

    @cached(key=lambda region, guild_id: key_of(region, guild_id, "rewards"), shape="page")
    async def role_rewards(self, guild_id: int) -> list[LevelRoleReward]:
        """Return the guild's role rewards by level, then role id."""
        statement = (
            select(LevelRoleReward)
            .where(LevelRoleReward.guild_id == checked(LevelRoleReward, "guild_id", guild_id))
            .order_by(LevelRoleReward.level, LevelRoleReward.role_id)
        )
        async with self._sessions.reading() as session:
            return list((await session.scalars(statement)).all())

    @invalidates(n.LEVELS_CONFIG_UPDATE, _guild_setup)
    async def set_role_reward(self, guild_id: int, level: int, role_id: int) -> LevelRoleReward:
        """Reward reaching ``level`` with ``role_id``; setting an existing reward again is a no-op.

        Raises
        ------
        ValidationError
            If ``level`` is not an integer >= 1.
        """
        guild = checked(LevelRoleReward, "guild_id", guild_id)
        level_value = cast("int", checked(LevelRoleReward, "level", level))
        if level_value < 1:
            raise ValidationError(f"level: expected an integer >= 1, got {level!r}")
        role = checked(LevelRoleReward, "role_id", role_id)
        insert = self._insert_into(LevelRoleReward).values(guild_id=guild, level=level_value, role_id=role)
        statement = upsert_returning(insert, ("guild_id", "level", "role_id"), ("role_id",), LevelRoleReward)
        async with self._sessions.writing() as session:
            await insert_guild_if_missing(self._sessions, session, guild)
            reward: LevelRoleReward = (await session.scalars(statement)).one()
            return reward

    @uncached
    async def role_multipliers(self, guild_id: int) -> dict[int, float]:
        """Return the guild's XP multipliers keyed by role id."""
        statement = select(LevelRoleMultiplier.role_id, LevelRoleMultiplier.multiplier).where(
            LevelRoleMultiplier.guild_id == checked(LevelRoleMultiplier, "guild_id", guild_id)
        )
        async with self._sessions.reading() as session:
            rows = (await session.execute(statement)).all()
        return {int(role): float(multiplier) for role, multiplier in rows}

    @invalidates(n.LEVELS_CONFIG_UPDATE, _guild_setup)
    async def set_role_multiplier(self, guild_id: int, role_id: int, multiplier: float) -> None:
        """Set (insert or replace) the XP multiplier of ``role_id``.

        Raises
        ------
        ValidationError
            If ``multiplier`` is not a finite number > 0.
        """
        guild = checked(LevelRoleMultiplier, "guild_id", guild_id)
        role = checked(LevelRoleMultiplier, "role_id", role_id)
        value = finite_number("multiplier", multiplier, minimum=0.0, inclusive=False)
        statement = self._insert_into(LevelRoleMultiplier).values(
            guild_id=guild, role_id=role, multiplier=value
        )
        statement = statement.on_conflict_do_update(
            index_elements=["guild_id", "role_id"], set_={"multiplier": statement.excluded.multiplier}
        )
        async with self._sessions.writing() as session:
            await insert_guild_if_missing(self._sessions, session, guild)
            await session.execute(statement)

    @uncached
    async def blacklisted_channels(self, guild_id: int) -> set[int]:
        """Return the channels of the guild where messages earn no XP."""
        statement = select(LevelChannelBlacklist.channel_id).where(
            LevelChannelBlacklist.guild_id == checked(LevelChannelBlacklist, "guild_id", guild_id)
        )
        async with self._sessions.reading() as session:
            return {int(channel) for channel in (await session.scalars(statement)).all()}

    @invalidates(n.LEVELS_CONFIG_UPDATE, _guild_setup)
    async def set_channel_blacklisted(self, guild_id: int, channel_id: int, blacklisted: bool) -> None:
        """Add ``channel_id`` to the XP blacklist (if missing) or remove it (if present)."""
        guild = checked(LevelChannelBlacklist, "guild_id", guild_id)
        channel = checked(LevelChannelBlacklist, "channel_id", channel_id)
        if not isinstance(blacklisted, bool):
            raise ValidationError(f"blacklisted: expected True or False, got {type(blacklisted).__name__}")
        async with self._sessions.writing() as session:
            if not blacklisted:
                await session.execute(
                    delete(LevelChannelBlacklist).where(
                        LevelChannelBlacklist.guild_id == guild, LevelChannelBlacklist.channel_id == channel
                    )
                )
                return
            await insert_guild_if_missing(self._sessions, session, guild)
            statement = self._insert_into(LevelChannelBlacklist).values(guild_id=guild, channel_id=channel)
            await session.execute(statement.on_conflict_do_nothing(index_elements=["guild_id", "channel_id"]))
