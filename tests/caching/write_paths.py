"""Every write path of the data layer, each paired with the cached read whose answer it changes.

A :class:`WritePath` prepares rows for one guild, names a cached read and the write. The test reads
(filling the cache), checks that reading again sends no query (so the read really is cached), writes,
and checks that the read now shows what the database holds.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from tux.database import Database
from tux.database.models import CaseType, utcnow
from tux.database.repositories.interfaces import ILevelsActivityRepository

HOUR = timedelta(hours=1)
MEMBER = 555_555_555_555_555_555
MOD = 666_666_666_666_666_666
Step = Callable[[Database, int], Awaitable[object]]


@dataclass(frozen=True)
class WritePath:
    """One write (``name`` says which) and the cached ``read`` it must be seen by."""

    name: str
    read: Step
    write: Step
    prepare: Step | None = None
    covers: tuple[str, ...] = ()
    """Declared writes (``Interface.method``) the path runs that its name does not say."""


async def prefix(db: Database, g: int) -> object:
    return await db.guild_configs.get_prefix(g)


async def config(db: Database, g: int) -> object:
    row = await db.guild_configs.find_by_id(g)
    return None if row is None else (row.prefix, row.mod_log_id)


async def log_channels(db: Database, g: int) -> object:
    return await db.guild_configs.get_moderation_settings(g)


async def status(db: Database, g: int) -> object:
    row = await db.member_status.get_status(g, MEMBER)
    if row is None:
        return None
    return (row.is_banned, row.is_jailed, row.is_snippet_banned, row.is_poll_banned, row.timed_out_until)


async def banned(db: Database, g: int) -> object:
    return await db.moderation.is_banned(g, MEMBER)


async def afk(db: Database, g: int) -> object:
    row = await db.afk.find_by_id((MEMBER, g))
    return None if row is None else (row.nickname, row.reason)


async def levels(db: Database, g: int) -> object:
    row = await db.levels.find_by_id((MEMBER, g))
    return None if row is None else (row.xp, row.level, row.blacklisted)


async def snippet(db: Database, g: int) -> object:
    row = await db.snippets.find_by_name(g, "tip")
    return None if row is None else (row.snippet_content, row.uses, row.locked)


async def alias(db: Database, g: int) -> object:
    row = await db.snippets.resolve(g, "hint")
    return None if row is None else (row.snippet_name, row.uses)


async def case(db: Database, g: int) -> object:
    row = await db.cases.find_by_guild_and_number(g, 1)
    return None if row is None else (row.case_type, row.case_status, row.case_processed, row.case_reason)


async def starboard(db: Database, g: int) -> object:
    row = await db.starboards.find_by_id(g)
    return None if row is None else (row.starboard_emoji, row.starboard_threshold)


async def message_state(db: Database, g: int) -> object:
    return await activity(db).message_state(guild_id=g, member_id=MEMBER)


async def rewards(db: Database, g: int) -> object:
    return [(row.level, row.role_id) for row in await db.levels_config.role_rewards(g)]


def activity(db: Database) -> ILevelsActivityRepository:
    """The per-message XP repository: the services use it, the facade has no attribute for it."""
    return db.registry.get_repository(ILevelsActivityRepository)


def raw(repository: object) -> Any:
    """The repository as ``Any``: ``upsert`` is on the implementations, not the interfaces."""
    return cast(Any, repository)


async def case_id(db: Database, g: int) -> int:
    row = await db.cases.find_by_guild_and_number(g, 1)
    assert row is not None
    return row.id


async def snippet_id(db: Database, g: int) -> int:
    row = await db.snippets.find_by_name(g, "tip")
    assert row is not None
    return row.snippet_id


def case_data(g: int, **changes: object) -> dict[str, object]:
    return {
        "guild_id": g,
        "case_number": 1,
        "case_type": CaseType.WARN,
        "case_reason": "spam",
        "case_moderator_id": MOD,
        "case_user_id": MEMBER,
        **changes,
    }


def afk_data(g: int, reason: str = "lunch") -> dict[str, object]:
    return {"guild_id": g, "member_id": MEMBER, "nickname": "nick", "reason": reason}


def status_data(g: int) -> dict[str, object]:
    return {"guild_id": g, "member_id": MEMBER, "is_jailed": True}


async def ensure(db: Database, g: int) -> object:
    return await db.guilds.ensure(g)


async def configured(db: Database, g: int) -> object:
    return await db.guild_configs.upsert_config(g, {"prefix": "a"})


async def with_status(db: Database, g: int) -> object:
    return await db.member_status.set_status(g, MEMBER, {"is_poll_banned": True})


async def with_case(db: Database, g: int) -> object:
    await ensure(db, g)
    return await db.cases.create(case_data(g))


async def with_afk(db: Database, g: int) -> object:
    return await db.afk.set_afk(afk_data(g))


async def with_levels(db: Database, g: int) -> object:
    return await db.levels.set_xp(guild_id=g, member_id=MEMBER, xp=19.5, level=0)


async def with_levels_config(db: Database, g: int) -> object:
    await ensure(db, g)
    return await db.levels_config.create({"guild_id": g, "xp_cooldown_seconds": 5})


async def with_snippet(db: Database, g: int) -> object:
    await db.snippet_service.create(g, "tip", "text", MOD)
    return await db.snippet_service.create_alias(g, "hint", "tip", MOD)


async def with_starboard(db: Database, g: int) -> object:
    return await db.starboards.upsert_starboard(g, {"starboard_channel_id": 1, "starboard_emoji": "*"})


def moderation(action: str, *before: tuple[str, tuple[object, ...]]) -> WritePath:
    """A moderation action (after the ``before`` actions), seen by the member's cached status."""

    async def prepare(db: Database, g: int) -> object:
        for name, extra in before:
            await getattr(db.moderation, name)(g, MEMBER, "earlier", MOD, *extra)
        return None

    async def write(db: Database, g: int) -> object:
        extra: tuple[object, ...] = ()
        if action in ("timeout_user", "tempban_user"):
            extra = (utcnow() + HOUR,)
        elif action == "jail_user":
            extra = ([7],)
        return await getattr(db.moderation, action)(g, MEMBER, "now", MOD, *extra)

    return WritePath(f"moderation.{action}", status, write, prepare)


async def then(first: Awaitable[int], then: Callable[[int], Awaitable[object]]) -> object:
    return await then(await first)
