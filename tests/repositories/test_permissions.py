"""PermissionRankRepository on both backends: ranks, role assignments and command requirements."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from tests.repositories import Call, assert_rejected_before_sql, row_counts
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import CheckViolationError, NotFoundError
from tux.database.repositories.permissions import PermissionRankRepository

GUILD = 81
OTHER_GUILD = 82
BASE_RANKS: list[dict[str, object]] = [
    {"rank": 0, "name": "Member"},
    {"rank": 3, "name": "Moderator", "description": "can ban"},
    {"rank": 1, "name": "Trusted"},
    {"rank": 5, "name": "Admin"},
]


@pytest.fixture
def perms(client: DatabaseClient) -> PermissionRankRepository:
    return PermissionRankRepository(client.sessions)


async def test_ensure_ranks_inserts_missing_only(
    perms: PermissionRankRepository, client: DatabaseClient
) -> None:
    assert await perms.ranks_of_guild(GUILD) == []
    assert await perms.ensure_ranks(GUILD, BASE_RANKS) == 4
    ranks = await perms.ranks_of_guild(GUILD)
    assert [(r.rank, r.name, r.description) for r in ranks] == [
        (0, "Member", None),
        (1, "Trusted", None),
        (3, "Moderator", "can ban"),
        (5, "Admin", None),
    ]
    again = [{"rank": 3, "name": "Renamed"}, {"rank": 4, "name": "Senior"}, {"rank": 4, "name": "Duplicate"}]
    assert await perms.ensure_ranks(GUILD, again) == 1
    after = {r.rank: r.name for r in await perms.ranks_of_guild(GUILD)}
    assert after == {0: "Member", 1: "Trusted", 3: "Moderator", 4: "Senior", 5: "Admin"}
    assert await perms.ensure_ranks(GUILD, []) == 0
    assert await perms.ranks_of_guild(OTHER_GUILD) == []
    assert (await row_counts(client))["guild"] == 1


async def test_assign_role_and_member_rank(perms: PermissionRankRepository) -> None:
    await perms.ensure_ranks(GUILD, BASE_RANKS)
    await perms.ensure_ranks(OTHER_GUILD, [{"rank": 9, "name": "Other admin"}])
    mod = await perms.assign_role(GUILD, 1001, 3)
    ranks = {r.rank: r.id for r in await perms.ranks_of_guild(GUILD)}
    assert (mod.guild_id, mod.role_id, mod.permission_rank_id) == (GUILD, 1001, ranks[3])
    await perms.assign_role(GUILD, 1002, 1)
    await perms.assign_role(OTHER_GUILD, 1003, 9)
    assert await perms.member_rank(GUILD, [1002]) == 1
    assert await perms.member_rank(GUILD, [1002, 1001, 5555]) == 3
    assert await perms.member_rank(GUILD, [5555]) == 0
    assert await perms.member_rank(GUILD, []) == 0
    assert await perms.member_rank(GUILD, [1003]) == 0  # a role of another guild grants nothing here
    moved = await perms.assign_role(GUILD, 1001, 5)
    assert (moved.id, moved.permission_rank_id) == (mod.id, ranks[5])
    assert await perms.member_rank(GUILD, (1001, 1002)) == 5


async def test_assign_unknown_rank(perms: PermissionRankRepository, client: DatabaseClient) -> None:
    await perms.ensure_ranks(GUILD, BASE_RANKS)
    await perms.ensure_ranks(OTHER_GUILD, [{"rank": 9, "name": "Other admin"}])
    with pytest.raises(NotFoundError, match="no permission rank 9"):
        await perms.assign_role(GUILD, 1001, 9)  # rank 9 exists, but in another guild
    assert (await row_counts(client))["permission_assignments"] == 0


async def test_command_ranks(perms: PermissionRankRepository, client: DatabaseClient) -> None:
    assert await perms.command_rank(GUILD, "ban") is None
    first = await perms.set_command_rank(GUILD, "ban", 3)
    assert (first.guild_id, first.command_name, first.required_rank) == (GUILD, "ban", 3)
    second = await perms.set_command_rank(GUILD, "ban", 5)
    assert (second.id, second.required_rank) == (first.id, 5)
    await perms.set_command_rank(GUILD, "kick", 2)
    assert await perms.command_rank(GUILD, "ban") == 5
    assert await perms.command_rank(GUILD, "kick") == 2
    assert await perms.command_rank(OTHER_GUILD, "ban") is None
    counts = await row_counts(client)
    assert (counts["guild"], counts["permission_commands"]) == (1, 2)


async def test_rank_range_is_a_check(perms: PermissionRankRepository, client: DatabaseClient) -> None:
    with pytest.raises(CheckViolationError) as caught:
        await perms.ensure_ranks(GUILD, [{"rank": 101, "name": "God"}])
    assert caught.value.constraint == "ck_permission_ranks_rank_range"
    with pytest.raises(CheckViolationError):
        await perms.set_command_rank(GUILD, "ban", -1)
    counts = await row_counts(client)
    assert (counts["guild"], counts["permission_ranks"], counts["permission_commands"]) == (0, 0, 0)


async def test_inputs_validated_before_sql(perms: PermissionRankRepository, client: DatabaseClient) -> None:
    bad_ranks: dict[str, Any] = {
        "not a list": {"rank": 1, "name": "x"},
        "a string": "ranks",
        "item not a mapping": [("rank", 1)],
        "missing name": [{"rank": 1}],
        "rank as str": [{"rank": "1", "name": "x"}],
        "name too long": [{"rank": 1, "name": "n" * 101}],
        "unknown field": [{"rank": 1, "name": "x", "colour": "red"}],
        "id given": [{"id": 5, "rank": 1, "name": "x"}],
        "other guild": [{"guild_id": OTHER_GUILD, "rank": 1, "name": "x"}],
        "description on some only and name None": [{"rank": 1, "name": None}],
    }
    calls: dict[str, Call] = {label: partial(perms.ensure_ranks, GUILD, r) for label, r in bad_ranks.items()}
    calls |= {
        "guild 2**64": lambda: perms.ranks_of_guild(2**64),
        "role str": lambda: perms.assign_role(GUILD, "1", 1),  # type: ignore[arg-type]
        "rank bool": lambda: perms.assign_role(GUILD, 1, True),
        "roles a str": lambda: perms.member_rank(GUILD, "1001"),  # type: ignore[arg-type]
        "roles with None": lambda: perms.member_rank(GUILD, [1, None]),  # type: ignore[list-item]
        "roles too many": lambda: perms.member_rank(GUILD, list(range(1, 10_002))),
        "command NUL": lambda: perms.set_command_rank(GUILD, "ba\x00n", 1),
        "command too long": lambda: perms.set_command_rank(GUILD, "c" * 101, 1),
        "command None": lambda: perms.command_rank(GUILD, None),  # type: ignore[arg-type]
        "required float": lambda: perms.set_command_rank(GUILD, "ban", 1.0),  # type: ignore[arg-type]
    }
    await assert_rejected_before_sql(client.engine, calls)
    assert sum((await row_counts(client)).values()) == 0


async def test_mixed_optional_fields_in_one_batch(perms: PermissionRankRepository) -> None:
    assert await perms.ensure_ranks(
        GUILD, [{"rank": 1, "name": "a", "description": "d"}, {"rank": 2, "name": "b"}]
    )
    assert [(r.rank, r.description) for r in await perms.ranks_of_guild(GUILD)] == [(1, "d"), (2, None)]
