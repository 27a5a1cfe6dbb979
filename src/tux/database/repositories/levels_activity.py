"""``LevelsActivityRepository``: the statements a chat message costs the levelling system.

Each is a fixed-shape :class:`~tux.database.core.statements.Statement` run on the direct driver path.

A message first reads everything the XP decision needs in one ``SELECT`` (the guild's rules, its
blacklisted channels and role multipliers, and the member's own row: a ``MessageState``, which the
cache keeps per member until the member's next award or a change of the guild's levelling setup); most
messages stop there, inside the cooldown. A message that earns XP then runs one native upsert whose
``ON CONFLICT ... DO UPDATE ... WHERE`` is the cooldown gate: the row is written only when the member is
not blacklisted and their last rewarded message is at least a cooldown old, so concurrent messages of
one member award XP once, and a member's first message inserts the row in the same statement. On
SQLite the upsert also returns whether the guild's standings have a stamp in the cache table; when
none has, the award's invalidation there needs no statement (see
:mod:`~tux.database.caching.database_level`), so an award is one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from datetime import datetime, timedelta
from functools import partial
from typing import Any, cast

from sqlalchemy import BigInteger, String, and_, bindparam, exists, func, or_, select, update
from sqlalchemy import cast as sql_cast

from tux.database.caching import names as n
from tux.database.caching.keys import group_tag
from tux.database.caching.serialization import tag_stamp
from tux.database.core.session import SessionProvider
from tux.database.core.statements import Statement
from tux.database.exceptions import ConfigurationError, ValidationError
from tux.database.models import (
    CacheEntry,
    Guild,
    LevelChannelBlacklist,
    LevelRoleMultiplier,
    Levels,
    LevelsConfig,
)
from tux.database.repositories.cached_common import member_key
from tux.database.repositories.cached_specs import CacheSeam, Change, cached, invalidates, uncached
from tux.database.repositories.interfaces import ILevelsActivityRepository
from tux.database.repositories.records import MessageContext, MessageState, XpAward
from tux.database.repositories.support import (
    GUILD_IF_MISSING,
    checked,
    checked_required,
    finite_number,
    in_list,
    insert_for,
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
    given = in_list("role_ids", role_ids, "role ids")
    return sorted({_snowflake(LevelRoleMultiplier, "role_id", role) for role in given})


def _award(dialect: str) -> Any:
    insert = insert_for(dialect, Levels).values(
        guild_id=bindparam("guild_id"),
        member_id=bindparam("member_id"),
        xp=bindparam("amount"),
        last_message=bindparam("now"),
    )
    cooled_down = or_(Levels.last_message.is_(None), Levels.last_message <= bindparam("cutoff"))
    returned: list[Any] = [Levels.xp, Levels.level]
    if dialect == "sqlite":  # under the write lock until the commit: see caching.database_level
        stamped = CacheEntry.key.in_([bindparam("leaderboard_stamp"), bindparam("rank_stamp")])
        returned.append((~exists().where(stamped)).label("unstamped"))
    return insert.on_conflict_do_update(
        index_elements=["guild_id", "member_id"],
        set_={"xp": Levels.xp + insert.excluded.xp, "last_message": insert.excluded.last_message},
        where=and_(~Levels.blacklisted, cooled_down),
    ).returning(*returned)


def _message_state() -> Any:
    guild = bindparam("guild", type_=BigInteger)
    channels = (
        select(func.aggregate_strings(sql_cast(LevelChannelBlacklist.channel_id, String), ","))
        .where(LevelChannelBlacklist.guild_id == guild)
        .scalar_subquery()
    )
    multipliers = (
        select(
            func.aggregate_strings(
                sql_cast(LevelRoleMultiplier.role_id, String)
                + ":"
                + sql_cast(LevelRoleMultiplier.multiplier, String),
                ",",
            )
        )
        .where(LevelRoleMultiplier.guild_id == guild)
        .scalar_subquery()
    )
    member = bindparam("member", type_=BigInteger)
    return (
        select(
            LevelsConfig.enabled,
            LevelsConfig.xp_cooldown_seconds,
            LevelsConfig.base_xp,
            channels.label("channels"),
            multipliers.label("multipliers"),
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


_MESSAGE_STATE = Statement(_message_state())
"""The member's XP decision inputs (see :meth:`LevelsActivityRepository.message_state`)."""
_AWARD = Statement(_award, writes=True)
"""The gated XP upsert (see :meth:`LevelsActivityRepository.award_if_cooled_down`)."""
_STORE_LEVEL = Statement(
    update(Levels)
    .where(Levels.guild_id == bindparam("in_guild"), Levels.member_id == bindparam("of_member"))
    .values(level=bindparam("new_level")),
    writes=True,
)


async def _note_unstamped(sessions: SessionProvider, tags: tuple[str, ...]) -> None:
    """The award saw no standings stamp in the cache table: its invalidation there needs no read."""
    from tux.database.caching.database_level import note_unstamped  # noqa: PLC0415 - SQLite only

    note_unstamped(sessions, tags)


def message_ids(
    guild_id: object, member_id: object, channel_id: object, role_ids: object
) -> tuple[int, int, int, list[int]]:
    """Return the ids of a chat message checked (positive 64-bit, roles a collection), or raise."""
    return (
        _snowflake(Guild, "id", guild_id),
        _snowflake(Levels, "member_id", member_id),
        _snowflake(LevelChannelBlacklist, "channel_id", channel_id),
        _role_ids(role_ids),
    )


class LevelsActivityRepository(ILevelsActivityRepository):
    """The per-message levelling queries, on any backend."""

    cache_seam = CacheSeam(kind=n.LEVELS_MESSAGE, model=Levels)  # key levels_message:<guild>:<member>

    def __init__(self, sessions: SessionProvider) -> None:
        self._sessions = sessions

    @uncached
    async def message_context(
        self, *, guild_id: int, member_id: int, channel_id: int, role_ids: Sequence[int]
    ) -> MessageContext:
        """Read the XP decision's inputs for one message in one ``SELECT`` (:meth:`message_state`).

        Raises
        ------
        ValidationError
            On an id that is not a positive 64-bit integer, before any SQL runs.
        """
        guild, member, channel, roles = message_ids(guild_id, member_id, channel_id, role_ids)
        state = await self.message_state(guild_id=guild, member_id=member)
        return state.context_for(channel, roles)

    @cached(key=member_key, shape=MessageState)
    async def message_state(self, *, guild_id: int, member_id: int) -> MessageState:
        """Read every input of the member's XP decisions in one prepared ``SELECT`` by the guild's key.

        ``guild LEFT JOIN levels_config LEFT JOIN levels`` plus the guild's blacklisted channels and
        role multipliers, each aggregated into one text column; no row means the guild is unknown.

        Raises
        ------
        ValidationError
            On an id that is not a positive 64-bit integer, before any SQL runs.
        """
        guild = _snowflake(Guild, "id", guild_id)
        member = _snowflake(Levels, "member_id", member_id)
        row = await self._sessions.runner.one(_MESSAGE_STATE, {"guild": guild, "member": member})
        if row is None:
            return _unknown_guild_state()
        return MessageState(
            guild_known=True,
            enabled=DEFAULT_ENABLED if row["enabled"] is None else bool(row["enabled"]),
            cooldown_seconds=(
                DEFAULT_COOLDOWN_SECONDS
                if row["xp_cooldown_seconds"] is None
                else int(row["xp_cooldown_seconds"])
            ),
            base_xp=DEFAULT_BASE_XP if row["base_xp"] is None else float(row["base_xp"]),
            blacklisted_channels=tuple(sorted(int(c) for c in (row["channels"] or "").split(",") if c)),
            multipliers=tuple(
                sorted(_multiplier(pair) for pair in (row["multipliers"] or "").split(",") if pair)
            ),
            member_blacklisted=bool(row["blacklisted"]),
            xp=0.0 if row["xp"] is None else float(row["xp"]),
            level=0 if row["level"] is None else int(row["level"]),
            last_message=row["last_message"],
        )

    @invalidates(
        n.XP_UPDATE,
        lambda result, *, guild_id, member_id, **_: (
            [] if result is None else [Change(n.XP_UPDATE, guild_id, member_id)]
        ),
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
        inside one cooldown exactly one is rewarded. On SQLite, an award that saw no stamp of the
        guild's leaderboard or ranks in the cache table notes so once it committed.

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
        values = {
            "guild_id": guild,
            "member_id": member,
            "amount": value,
            "now": moment,
            "cutoff": moment - timedelta(seconds=cooldown),
        }
        sessions = self._sessions
        standings: tuple[str, ...] = ()
        if sessions.is_sqlite:
            standings = (group_tag(n.LEVELS_LEADERBOARD, guild), group_tag(n.LEVELS_RANK, guild))
            values["leaderboard_stamp"], values["rank_stamp"] = map(tag_stamp, standings)
        runner = sessions.runner
        async with runner.atomic() if create_guild else nullcontext():
            if create_guild:
                await runner.count(GUILD_IF_MISSING, {"guild_id": guild})
            row = await runner.one(_AWARD, values)
        if row is None:
            return None
        if row.get("unstamped"):
            await sessions.after_commit(partial(_note_unstamped, sessions, standings))
        return XpAward(xp=float(row["xp"]), stored_level=int(row["level"]))

    @invalidates(
        n.XP_UPDATE, lambda result, *, guild_id, member_id, level: [Change(n.XP_UPDATE, guild_id, member_id)]
    )
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
        await self._sessions.runner.count(
            _STORE_LEVEL, {"in_guild": guild, "of_member": member, "new_level": value}
        )


def _multiplier(pair: str) -> tuple[int, float]:
    role, _, multiplier = pair.partition(":")
    return int(role), float(multiplier)


def _unknown_guild_state() -> MessageState:
    """The state of a guild without a row: default rules, nothing blacklisted, no member row."""
    return MessageState(
        guild_known=False,
        enabled=DEFAULT_ENABLED,
        cooldown_seconds=DEFAULT_COOLDOWN_SECONDS,
        base_xp=DEFAULT_BASE_XP,
        blacklisted_channels=(),
        multipliers=(),
        member_blacklisted=False,
        xp=0.0,
        level=0,
        last_message=None,
    )
