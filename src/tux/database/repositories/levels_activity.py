"""``LevelsActivityRepository``: the two statements a chat message costs the levelling system.

A message first reads everything the XP decision needs in one ``SELECT`` (the guild's rules, whether the
channel is blacklisted, the best multiplier of the member's roles and the member's own row); most
messages stop there, inside the cooldown. A message that earns XP then runs one native upsert whose
``ON CONFLICT ... DO UPDATE ... WHERE`` is the cooldown gate: the row is written only when the member is
not blacklisted and their last rewarded message is at least a cooldown old, so concurrent messages of
one member award XP once, and a member's first message inserts the row in the same statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import and_, exists, func, or_, select, update

from tux.database.core.session import SessionProvider
from tux.database.exceptions import ConfigurationError, ValidationError
from tux.database.models import Guild, LevelChannelBlacklist, LevelRoleMultiplier, Levels, LevelsConfig
from tux.database.repositories.filters import MAX_IN_VALUES
from tux.database.repositories.interfaces import ILevelsActivityRepository
from tux.database.repositories.records import MessageContext, XpAward
from tux.database.repositories.support import (
    checked,
    checked_required,
    dialect_insert,
    finite_number,
    insert_guild_if_missing,
)


def _column_default(name: str) -> Any:
    """Return the Python-side default of ``levels_config.name``: what a guild without config gets."""
    default = LevelsConfig.__table__.c[name].default
    if default is None or not default.is_scalar:
        raise ConfigurationError(f"levels_config.{name} needs a scalar default")
    return default.arg


DEFAULT_ENABLED: bool = _column_default("enabled")
DEFAULT_COOLDOWN_SECONDS: int = _column_default("xp_cooldown_seconds")
DEFAULT_BASE_XP: float = _column_default("base_xp")


def _snowflake(model: type[Any], name: str, value: object) -> int:
    """Return ``value`` checked as a positive 64-bit Discord id for column ``name``."""
    number = cast("int", checked_required(model, name, value))
    if number <= 0:
        raise ValidationError(f"{name}: Discord ids are positive, got {number}")
    return number


def _role_ids(role_ids: object) -> list[int]:
    if isinstance(role_ids, (str, bytes)) or not isinstance(role_ids, (list, tuple, set, frozenset)):
        raise ValidationError("role_ids: expected a list, tuple or set of role ids")
    if len(role_ids) > MAX_IN_VALUES:
        raise ValidationError(f"role_ids: at most {MAX_IN_VALUES} values are allowed")
    return sorted({_snowflake(LevelRoleMultiplier, "role_id", role) for role in role_ids})


class LevelsActivityRepository(ILevelsActivityRepository):
    """The per-message levelling queries, on any backend."""

    def __init__(self, sessions: SessionProvider) -> None:
        self._sessions = sessions

    async def message_context(
        self, *, guild_id: int, member_id: int, channel_id: int, role_ids: Sequence[int]
    ) -> MessageContext:
        """Read the XP decision's inputs in one ``SELECT`` driven by the guild's primary key.

        ``guild LEFT JOIN levels_config LEFT JOIN levels`` plus two scalar subqueries (channel blacklist
        probe, best role multiplier); no row at all means the guild is unknown.

        Raises
        ------
        ValidationError
            On an id that is not a positive 64-bit integer, before any SQL runs.
        """
        guild = _snowflake(Guild, "id", guild_id)
        member = _snowflake(Levels, "member_id", member_id)
        channel = _snowflake(LevelChannelBlacklist, "channel_id", channel_id)
        roles = _role_ids(role_ids)
        channel_blacklisted = exists().where(
            LevelChannelBlacklist.guild_id == guild, LevelChannelBlacklist.channel_id == channel
        )
        best_multiplier = (
            select(func.max(LevelRoleMultiplier.multiplier))
            .where(LevelRoleMultiplier.guild_id == guild, LevelRoleMultiplier.role_id.in_(roles))
            .scalar_subquery()
        )
        statement = (
            select(
                LevelsConfig.enabled,
                LevelsConfig.xp_cooldown_seconds,
                LevelsConfig.base_xp,
                channel_blacklisted.label("channel_blacklisted"),
                best_multiplier.label("multiplier"),
                Levels.blacklisted,
                Levels.xp,
                Levels.level,
                Levels.last_message,
            )
            .select_from(Guild)
            .outerjoin(LevelsConfig, LevelsConfig.guild_id == Guild.id)
            .outerjoin(Levels, and_(Levels.guild_id == Guild.id, Levels.member_id == member))
            .where(Guild.id == guild)
        )
        async with self._sessions.reading() as session:
            row = (await session.execute(statement)).one_or_none()
        if row is None:
            return _unknown_guild_context()
        return MessageContext(
            guild_known=True,
            enabled=DEFAULT_ENABLED if row.enabled is None else bool(row.enabled),
            cooldown_seconds=(
                DEFAULT_COOLDOWN_SECONDS if row.xp_cooldown_seconds is None else int(row.xp_cooldown_seconds)
            ),
            base_xp=DEFAULT_BASE_XP if row.base_xp is None else float(row.base_xp),
            channel_blacklisted=bool(row.channel_blacklisted),
            multiplier=1.0 if row.multiplier is None else float(row.multiplier),
            member_blacklisted=bool(row.blacklisted),
            xp=0.0 if row.xp is None else float(row.xp),
            level=0 if row.level is None else int(row.level),
            last_message=row.last_message,
        )

    async def award_if_cooled_down(
        self,
        *,
        guild_id: int,
        member_id: int,
        amount: float,
        now: datetime,
        cooldown_seconds: int,
        create_guild: bool,
    ) -> XpAward | None:
        """Award ``amount`` XP through one gated upsert; ``None`` when the gate refused.

        ``INSERT (xp = :amount, last_message = :now) ON CONFLICT (guild_id, member_id) DO UPDATE SET
        xp = levels.xp + excluded.xp, last_message = excluded.last_message WHERE NOT levels.blacklisted
        AND (levels.last_message IS NULL OR levels.last_message <= :now - cooldown) RETURNING xp,
        level``. PostgreSQL re-evaluates the ``WHERE`` on the latest row version after waiting for a
        concurrent writer's row lock, and SQLite runs one writer at a time, so of several messages
        inside one cooldown exactly one is rewarded.

        Raises
        ------
        ValidationError
            On a bad id, a non-finite or negative amount, a naive ``now`` or a negative cooldown.
        """
        guild = _snowflake(Levels, "guild_id", guild_id)
        member = _snowflake(Levels, "member_id", member_id)
        value = finite_number("amount", amount, minimum=0.0)
        moment = cast("datetime", checked_required(Levels, "last_message", now))
        cooldown = cast("int", checked(LevelsConfig, "xp_cooldown_seconds", cooldown_seconds))
        if cooldown < 0:
            raise ValidationError(f"cooldown_seconds: expected an integer >= 0, got {cooldown}")
        insert = dialect_insert(self._sessions, Levels).values(
            guild_id=guild, member_id=member, xp=value, last_message=moment
        )
        cooled_down = or_(
            Levels.last_message.is_(None), Levels.last_message <= moment - timedelta(seconds=cooldown)
        )
        statement = insert.on_conflict_do_update(
            index_elements=["guild_id", "member_id"],
            set_={"xp": Levels.xp + insert.excluded.xp, "last_message": insert.excluded.last_message},
            where=and_(~Levels.blacklisted, cooled_down),
        ).returning(Levels.xp, Levels.level)
        async with self._sessions.writing() as session:
            if create_guild:
                await insert_guild_if_missing(self._sessions, session, guild)
            row = (await session.execute(statement)).one_or_none()
        return None if row is None else XpAward(xp=float(row.xp), stored_level=int(row.level))

    async def store_level(self, *, guild_id: int, member_id: int, level: int) -> None:
        """Set the member's ``level`` column (one primary-key ``UPDATE``).

        Raises
        ------
        ValidationError
            On a bad id or a level that is not an integer >= 0.
        """
        guild = _snowflake(Levels, "guild_id", guild_id)
        member = _snowflake(Levels, "member_id", member_id)
        value = cast("int", checked_required(Levels, "level", level))
        if value < 0:
            raise ValidationError(f"level: expected an integer >= 0, got {value}")
        statement = (
            update(Levels)
            .where(Levels.guild_id == guild, Levels.member_id == member)
            .values(level=value)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions.writing() as session:
            await session.execute(statement)


def _unknown_guild_context() -> MessageContext:
    """The context of a guild without a row: default rules, nothing blacklisted, no member row."""
    return MessageContext(
        guild_known=False,
        enabled=DEFAULT_ENABLED,
        cooldown_seconds=DEFAULT_COOLDOWN_SECONDS,
        base_xp=DEFAULT_BASE_XP,
        channel_blacklisted=False,
        multiplier=1.0,
        member_blacklisted=False,
        xp=0.0,
        level=0,
        last_message=None,
    )
