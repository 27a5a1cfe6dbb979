"""Per repository interface: the reads the cache serves, and what every write changes.

Keys carry the guild id (``kind:guild:parts``), so a value of one guild is never served for another.
Rows keyed by a surrogate id (cases, snippets) are cached under their natural key (guild + number,
guild + name) only; a write that names such a row by its surrogate id and cannot tell its guild (a
delete, which returns only a flag) invalidates the type in every guild: correct, and rare.

Repositories whose rows are never cached and whose writes change nothing cached (audit log,
permissions, reminders, starboard messages) have no table and are not wrapped.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from operator import itemgetter
from typing import Any

from tux.database.caching import names as n
from tux.database.caching.region import CacheKey, CacheRegion
from tux.database.core.ids import is_snowflake
from tux.database.models import (
    AFK,
    Case,
    CaseType,
    GuildConfig,
    LevelRoleReward,
    Levels,
    MemberStatus,
    Snippet,
    Starboard,
)
from tux.database.models.guild_config import CHANNEL_AND_ROLE_COLUMNS
from tux.database.repositories.cached_specs import (
    FAILED,
    CacheTable,
    Change,
    Changes,
    Lookup,
    Write,
    key_of,
    pair,
)
from tux.database.repositories.interfaces import (
    IAfkRepository,
    ICaseRepository,
    IGuildConfigRepository,
    IGuildRepository,
    ILevelsActivityRepository,
    ILevelsConfigRepository,
    ILevelsRepository,
    IMemberStatusRepository,
    ISnippetRepository,
    IStarboardRepository,
)
from tux.database.repositories.records import MessageState, ModerationSettings
from tux.database.repositories.support import MAX_PAGE_SIZE

BASE_READS = frozenset({"find_by_id", "find_all", "find_one", "exists", "count"})
Place = tuple[object, object]
"""``(guild_id, member_id)`` of a row; ``None`` where unknown."""


def _get(data: object, name: str | None) -> object:
    return data.get(name) if name is not None and isinstance(data, Mapping) else None


def natural_writes(
    event: str, of_id: Callable[[object], Place], guild_field: str, member_field: str | None = None
) -> dict[str, Write]:
    """The generic writes of a table keyed by its guild (and member): changes from the key or the data.

    An ``update`` whose data moves the row to another key changes both places.
    """

    def from_data(data: object) -> Change:
        return Change(event, _get(data, guild_field), _get(data, member_field))

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

    def update(result: Any, id: object, data: object) -> list[Change]:  # noqa: A002
        if result is None:
            return []
        if result is FAILED or (isinstance(data, Mapping) and "guild_id" in data):
            return [Change(event)]
        return [Change(event, result.guild_id)]

    return emits(
        event,
        create=lambda result, data: [Change(event, _get(data, "guild_id"))],
        upsert=lambda result, data, **_: [Change(event)],
        update=update,
        delete=lambda result, id: [] if result is False else [Change(event)],  # noqa: A006
    )


def emits(event: str, **changes: Changes) -> dict[str, Write]:
    """Declare write methods that report ``event``: method name -> how it derives its changes."""
    return {name: Write((event,), derive) for name, derive in changes.items()}


def _guild_of(identity: object) -> Place:
    return identity, None


def _member_first(identity: object) -> Place:
    return pair(identity, member_first=True)


def _guild_first(identity: object) -> Place:
    return pair(identity, member_first=False)


def _each_guild(event: str, rows: object) -> Iterable[Change]:
    if rows is FAILED or not isinstance(rows, list):
        return [Change(event)]
    return [Change(event, guild) for guild in sorted({row.guild_id for row in rows})]


def _moderation_settings(row: dict[str, Any]) -> ModerationSettings:
    return ModerationSettings(row["id"], *(row[name] for name in CHANNEL_AND_ROLE_COLUMNS))


def _nothing(*_: object, **__: object) -> list[Change]:
    return []


NO_CHANGE = Write((), _nothing)
"""A write that changes nothing cached (a guild row, a case-number counter)."""


def _guild_key(region: CacheRegion[Any], guild_id: object) -> CacheKey[Any] | None:
    """Key of a per-guild row (a memory hit of a positional id never gets here: the guild reader)."""
    return region.guild_keys[guild_id] if is_snowflake(guild_id) else None


def _member_key(region: CacheRegion[Any], guild_id: object, member_id: object) -> CacheKey[Any] | None:
    return key_of(region, guild_id, member_id)


def _case_key(region: CacheRegion[Any], guild_id: object, case_number: object) -> CacheKey[Any] | None:
    return key_of(region, guild_id, case_number)


def _rewards_key(region: CacheRegion[Any], guild_id: object) -> CacheKey[Any] | None:
    return key_of(region, guild_id, "rewards")


def _message_state_key(
    region: CacheRegion[Any], *, guild_id: object, member_id: object
) -> CacheKey[Any] | None:
    """Key of a member's XP decision inputs: dropped by the member's awards and the guild's setup."""
    return key_of(region, guild_id, member_id)


_PAGE_SIZE = inspect.signature(ILevelsRepository.leaderboard).parameters["limit"].default
"""The leaderboard's default page size, as the interface declares it (the key must name the size)."""


def _first_page_key(
    region: CacheRegion[Any], guild_id: object, *, limit: object = _PAGE_SIZE, after: object = None
) -> CacheKey[Any] | None:
    """Key of a leaderboard's first page (what the leaderboard command shows); later pages go to SQL.

    A limit that is not a valid page size gets no key, so the repository refuses it before any SQL
    (the cache table would otherwise be read, and stamped, for a call that can never be answered).
    """
    if after is not None or type(limit) is not int or not 1 <= limit <= MAX_PAGE_SIZE:
        return None
    return key_of(region, guild_id, "top", limit)


def _rank_key(region: CacheRegion[Any], *, guild_id: object, member_id: object) -> CacheKey[Any] | None:
    return key_of(region, guild_id, member_id)


def _id_key(region: CacheRegion[Any], id: object) -> CacheKey[Any] | None:  # noqa: A002 - the interface's name
    return _guild_key(region, id)


_by_guild = Lookup(key=_id_key, per_guild=True)


def _by_pair(of_id: Callable[[object], Place]) -> Lookup:
    return Lookup(key=lambda region, id: key_of(region, *of_id(id)))  # noqa: A006


def _config_field(project: Callable[[dict[str, Any]], Any]) -> Lookup:
    """A guild-config read answered from the cached config row (one entry serves them all)."""
    return Lookup(
        key=_guild_key,
        load=lambda repository, guild_id: repository.find_by_id(guild_id),
        project=project,
        per_guild=True,
    )


def _snippet(mode: str) -> Lookup:
    return Lookup(key=lambda region, guild_id, name: key_of(region, guild_id, mode, name))


CACHE_TABLES: Mapping[type[Any], CacheTable] = {
    IGuildRepository: CacheTable(
        kind=None,
        model=None,
        reads=BASE_READS,
        writes={
            **dict.fromkeys(("create", "update", "upsert", "ensure"), NO_CHANGE),
            **emits(
                n.GUILD_DELETE,
                delete=lambda result, id: [] if result is False else [Change(n.GUILD_DELETE, id)],  # noqa: A006
            ),
        },
    ),
    IGuildConfigRepository: CacheTable(
        kind=n.GUILD_CONFIG,
        model=GuildConfig,
        lookups={
            "find_by_id": _by_guild,
            "get_prefix": _config_field(itemgetter("prefix")),
            "get_moderation_settings": _config_field(_moderation_settings),
        },
        reads=BASE_READS,
        writes={
            **natural_writes(n.GUILD_CONFIG_UPDATE, _guild_of, "id"),
            **emits(
                n.GUILD_CONFIG_UPDATE,
                upsert_config=lambda result, guild_id, data: [Change(n.GUILD_CONFIG_UPDATE, guild_id)],
            ),
        },
    ),
    IMemberStatusRepository: CacheTable(
        kind=n.MEMBER_STATUS,
        model=MemberStatus,
        lookups={
            "find_by_id": _by_pair(_guild_first),
            "get_status": Lookup(
                key=_member_key,
                load=lambda repository, guild_id, member_id: repository.find_by_id((guild_id, member_id)),
            ),
        },
        reads=BASE_READS,
        writes={
            **natural_writes(n.MEMBER_STATUS_UPDATE, _guild_first, "guild_id", "member_id"),
            **emits(
                n.MEMBER_STATUS_UPDATE,
                set_status=lambda result, guild_id, member_id, data: [
                    Change(n.MEMBER_STATUS_UPDATE, guild_id, member_id)
                ],
            ),
        },
    ),
    IAfkRepository: CacheTable(
        kind=n.AFK,
        model=AFK,
        lookups={"find_by_id": _by_pair(_member_first)},
        reads=BASE_READS | {"find_expired"},
        writes={
            **natural_writes(n.AFK_UPDATE, _member_first, "guild_id", "member_id"),
            **emits(
                n.AFK_UPDATE,
                set_afk=lambda result, data: [Change(n.AFK_UPDATE, _get(data, "guild_id"))],
                remove=lambda result, *, guild_id, member_id: (
                    [] if result is False else [Change(n.AFK_UPDATE, guild_id, member_id)]
                ),
            ),
        },
    ),
    ILevelsRepository: CacheTable(
        kind=n.USER_LEVELS,
        model=Levels,
        lookups={
            "find_by_id": _by_pair(_member_first),
            "leaderboard": Lookup(key=_first_page_key, kind=n.LEVELS_LEADERBOARD, shape="page"),
            "rank": Lookup(key=_rank_key, kind=n.LEVELS_RANK, shape=int),
        },
        reads=BASE_READS,
        writes={
            **natural_writes(n.XP_UPDATE, _member_first, "guild_id", "member_id"),
            **emits(
                n.XP_UPDATE,
                **dict.fromkeys(
                    ("add_xp", "set_xp", "set_blacklisted"),
                    lambda result, *, guild_id, member_id, **_: [Change(n.XP_UPDATE, guild_id, member_id)],
                ),
            ),
        },
    ),
    ILevelsActivityRepository: CacheTable(
        kind=n.LEVELS_MESSAGE,
        model=Levels,
        lookups={"message_state": Lookup(key=_message_state_key, shape=MessageState)},
        reads=frozenset({"message_context"}),
        writes=emits(
            n.XP_UPDATE,
            award_if_cooled_down=lambda result, *, guild_id, member_id, **_: (
                [] if result is None else [Change(n.XP_UPDATE, guild_id, member_id)]
            ),
            store_level=lambda result, *, guild_id, member_id, level: [
                Change(n.XP_UPDATE, guild_id, member_id)
            ],
        ),
    ),
    ILevelsConfigRepository: CacheTable(
        kind=n.LEVELS_REWARDS,
        model=LevelRoleReward,
        lookups={"role_rewards": Lookup(key=_rewards_key, shape="page")},
        reads=BASE_READS | {"role_multipliers", "blacklisted_channels"},
        writes={
            **natural_writes(n.LEVELS_CONFIG_UPDATE, _guild_of, "guild_id"),
            **emits(
                n.LEVELS_CONFIG_UPDATE,
                **dict.fromkeys(
                    ("set_role_reward", "set_role_multiplier", "set_channel_blacklisted"),
                    lambda result, guild_id, *_, **__: [Change(n.LEVELS_CONFIG_UPDATE, guild_id)],
                ),
            ),
        },
    ),
    ISnippetRepository: CacheTable(
        kind=n.SNIPPETS,
        model=Snippet,
        lookups={"find_by_name": _snippet("name"), "resolve": _snippet("resolve")},
        reads=BASE_READS | {"aliases_of", "list_by_guild"},
        writes={
            **surrogate_writes(n.SNIPPET_UPDATE),
            **emits(
                n.SNIPPET_UPDATE,
                use=lambda result, guild_id, name: (
                    [] if result is None else [Change(n.SNIPPET_UPDATE, guild_id)]
                ),
            ),
        },
    ),
    ICaseRepository: CacheTable(
        kind=n.CASES,
        model=Case,
        lookups={
            "find_by_guild_and_number": Lookup(key=_case_key),
            "count_by_type": Lookup(key=_guild_key, kind=n.CASE_STATS, shape=dict[CaseType, int]),
        },
        reads=BASE_READS | {"find_by_user_and_type", "latest_of_types", "history"},
        writes={
            **surrogate_writes(n.CASE_UPDATE),
            "get_next_case_number": NO_CHANGE,
            **emits(
                n.CASE_UPDATE,
                void=lambda result, guild_id, *_, **__: (
                    [] if result is None else [Change(n.CASE_UPDATE, guild_id)]
                ),
                claim_expired_tempbans=lambda result, *_, **__: _each_guild(n.CASE_UPDATE, result),
            ),
        },
    ),
    IStarboardRepository: CacheTable(
        kind=n.STARBOARD,
        model=Starboard,
        lookups={"find_by_id": _by_guild},
        reads=BASE_READS,
        writes={
            **natural_writes(n.STARBOARD_UPDATE, _guild_of, "guild_id"),
            **emits(
                n.STARBOARD_UPDATE,
                upsert_starboard=lambda result, guild_id, data: [Change(n.STARBOARD_UPDATE, guild_id)],
            ),
        },
    ),
}
"""The cache table of each wrapped repository interface."""
