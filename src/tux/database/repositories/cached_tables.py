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

from tux.database.caching.keys import CacheKey
from tux.database.caching.region import CacheRegion
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
from tux.database.repositories.cached_specs import FAILED, Change, Changes, Lookup, Table, key_of, pair
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
from tux.database.repositories.validation import INT64_MAX

BASE_READS = frozenset({"find_by_id", "find_all", "find_one", "exists", "count"})
Place = tuple[object, object]
"""``(guild_id, member_id)`` of a row; ``None`` where unknown."""


def _get(data: object, name: str | None) -> object:
    return data.get(name) if name is not None and isinstance(data, Mapping) else None


def natural_writes(
    event: str, of_id: Callable[[object], Place], guild_field: str, member_field: str | None = None
) -> dict[str, Changes]:
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

    return {
        "create": lambda result, data: [from_data(data)],
        "upsert": lambda result, data, **_: [from_data(data)],
        "update": update,
        "delete": lambda result, id: [] if result is False else [Change(event, *of_id(id))],  # noqa: A006
    }


def surrogate_writes(event: str) -> dict[str, Changes]:
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

    return {
        "create": lambda result, data: [Change(event, _get(data, "guild_id"))],
        "upsert": lambda result, data, **_: [Change(event)],
        "update": update,
        "delete": lambda result, id: [] if result is False else [Change(event)],  # noqa: A006
    }


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


def _no_change(*_: object, **__: object) -> list[Change]:
    return []


def _guild_key(region: CacheRegion[Any], guild_id: object) -> CacheKey[Any] | None:
    """Key of a per-guild row: the hottest lookups, so the id check is written out here."""
    if type(guild_id) is int and 0 < guild_id <= INT64_MAX:
        return region.guild_keys[guild_id]
    return None


def _member_key(region: CacheRegion[Any], guild_id: object, member_id: object) -> CacheKey[Any] | None:
    return key_of(region, guild_id, member_id)


def _case_key(region: CacheRegion[Any], guild_id: object, case_number: object) -> CacheKey[Any] | None:
    return key_of(region, guild_id, case_number)


REWARDS_POLICY: Mapping[str, Any] = {
    "ttl": 3600.0,
    "negative_ttl": 300.0,
    "levels": ("memory", "redis"),
    "invalidated_by": {"levels_config_update": None},
}
"""Cache policy of a guild's role rewards (``levels_rewards``), read on every level-up."""
MESSAGE_STATE_POLICY: Mapping[str, Any] = {
    "ttl": 300.0,
    "negative_ttl": 60.0,
    "levels": ("memory", "redis"),
    "invalidated_by": {"xp_update": ("user_id",), "levels_config_update": None},
}
"""Cache policy of a member's XP decision inputs (``levels_message``): dropped by the member's awards
(and every other XP or blacklist change of the member) and by any change of the guild's levelling
setup. Applied by :func:`with_table_policies` under whatever a deployment configures for the type."""


def with_table_policies(overrides: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Return the per-type policy overrides with the policies of the types these tables add."""
    added = {"levels_message": MESSAGE_STATE_POLICY, "levels_rewards": REWARDS_POLICY}
    return {**overrides, **{kind: {**policy, **overrides.get(kind, {})} for kind, policy in added.items()}}


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
    """Key of a leaderboard's first page (what the leaderboard command shows); later pages go to SQL."""
    return key_of(region, guild_id, "top", limit) if after is None else None


def _rank_key(region: CacheRegion[Any], *, guild_id: object, member_id: object) -> CacheKey[Any] | None:
    return key_of(region, guild_id, member_id)


def _id_key(region: CacheRegion[Any], id: object) -> CacheKey[Any] | None:  # noqa: A002 - interface name
    if type(id) is int and 0 < id <= INT64_MAX:
        return region.guild_keys[id]
    return None


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


TABLES: Mapping[type[Any], Table] = {
    IGuildRepository: Table(
        kind=None,
        model=None,
        reads=BASE_READS,
        writes={
            "create": _no_change,
            "update": _no_change,
            "upsert": _no_change,
            "ensure": _no_change,
            "delete": lambda result, id: [] if result is False else [Change("guild_delete", id)],  # noqa: A006
        },
    ),
    IGuildConfigRepository: Table(
        kind="guild_config",
        model=GuildConfig,
        lookups={
            "find_by_id": _by_guild,
            "get_prefix": _config_field(itemgetter("prefix")),
            "get_moderation_settings": _config_field(_moderation_settings),
        },
        reads=BASE_READS,
        writes={
            **natural_writes("guild_config_update", _guild_of, "id"),
            "upsert_config": lambda result, guild_id, data: [Change("guild_config_update", guild_id)],
        },
    ),
    IMemberStatusRepository: Table(
        kind="member_status",
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
            **natural_writes("member_status_update", _guild_first, "guild_id", "member_id"),
            "set_status": lambda result, guild_id, member_id, data: [
                Change("member_status_update", guild_id, member_id)
            ],
        },
    ),
    IAfkRepository: Table(
        kind="afk",
        model=AFK,
        lookups={"find_by_id": _by_pair(_member_first)},
        reads=BASE_READS | {"find_expired"},
        writes={
            **natural_writes("afk_update", _member_first, "guild_id", "member_id"),
            "set_afk": lambda result, data: [Change("afk_update", _get(data, "guild_id"))],
            "remove": lambda result, *, guild_id, member_id: (
                [] if result is False else [Change("afk_update", guild_id, member_id)]
            ),
        },
    ),
    ILevelsRepository: Table(
        kind="user_levels",
        model=Levels,
        lookups={
            "find_by_id": _by_pair(_member_first),
            "leaderboard": Lookup(key=_first_page_key, kind="levels_leaderboard", shape="page"),
            "rank": Lookup(key=_rank_key, kind="levels_rank", shape=int),
        },
        reads=BASE_READS,
        writes={
            **natural_writes("xp_update", _member_first, "guild_id", "member_id"),
            **{
                name: lambda result, *, guild_id, member_id, **_: [Change("xp_update", guild_id, member_id)]
                for name in ("add_xp", "set_xp", "set_blacklisted")
            },
        },
    ),
    ILevelsActivityRepository: Table(
        kind="levels_message",
        model=Levels,
        lookups={"message_state": Lookup(key=_message_state_key, shape=MessageState)},
        reads=frozenset({"message_context"}),
        writes={
            "award_if_cooled_down": lambda result, *, guild_id, member_id, **_: (
                [] if result is None else [Change("xp_update", guild_id, member_id)]
            ),
            "store_level": lambda result, *, guild_id, member_id, level: [
                Change("xp_update", guild_id, member_id)
            ],
        },
    ),
    ILevelsConfigRepository: Table(
        kind="levels_rewards",
        model=LevelRoleReward,
        lookups={"role_rewards": Lookup(key=_rewards_key, shape="page")},
        reads=BASE_READS | {"role_multipliers", "blacklisted_channels"},
        writes={
            **natural_writes("levels_config_update", _guild_of, "guild_id"),
            **{
                name: lambda result, guild_id, *_, **__: [Change("levels_config_update", guild_id)]
                for name in ("set_role_reward", "set_role_multiplier", "set_channel_blacklisted")
            },
        },
    ),
    ISnippetRepository: Table(
        kind="snippets",
        model=Snippet,
        lookups={"find_by_name": _snippet("name"), "resolve": _snippet("resolve")},
        reads=BASE_READS | {"aliases_of", "list_by_guild"},
        writes={
            **surrogate_writes("snippet_update"),
            "use": lambda result, guild_id, name: (
                [] if result is None else [Change("snippet_update", guild_id)]
            ),
        },
    ),
    ICaseRepository: Table(
        kind="cases",
        model=Case,
        lookups={
            "find_by_guild_and_number": Lookup(key=_case_key),
            "count_by_type": Lookup(key=_guild_key, kind="case_stats", shape=dict[CaseType, int]),
        },
        reads=BASE_READS | {"find_by_user_and_type", "latest_of_types", "history"},
        writes={
            **surrogate_writes("case_update"),
            "get_next_case_number": _no_change,
            "void": lambda result, guild_id, *_, **__: (
                [] if result is None else [Change("case_update", guild_id)]
            ),
            "claim_expired_tempbans": lambda result, *_, **__: _each_guild("case_update", result),
        },
    ),
    IStarboardRepository: Table(
        kind="starboard",
        model=Starboard,
        lookups={"find_by_id": _by_guild},
        reads=BASE_READS,
        writes={
            **natural_writes("starboard_update", _guild_of, "guild_id"),
            "upsert_starboard": lambda result, guild_id, data: [Change("starboard_update", guild_id)],
        },
    ),
}
"""The cache table of each wrapped repository interface."""
