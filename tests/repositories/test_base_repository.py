"""The generic SQLAlchemyRepository on single-key models (Guild, Case, GuildConfig), on both backends."""

from __future__ import annotations

from typing import Any

import pytest

from tests.repositories import NOW, at, captured_sql, queries
from tux.database.core.client import DatabaseClient
from tux.database.models import Case, CaseStatus, CaseType, OnboardingStage
from tux.database.repositories.cases import CaseRepository
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.guild_config import GuildConfigRepository
from tux.database.transactions.patterns import TransactionManager

GUILD = 10
OTHER_GUILD = 20


@pytest.fixture
def guilds(client: DatabaseClient) -> GuildRepository:
    return GuildRepository(client.sessions)


@pytest.fixture
def cases(client: DatabaseClient) -> CaseRepository:
    return CaseRepository(client.sessions)


@pytest.fixture
def configs(client: DatabaseClient) -> GuildConfigRepository:
    return GuildConfigRepository(client.sessions)


def case_row(number: int, **extra: Any) -> dict[str, Any]:
    return {
        "guild_id": GUILD,
        "case_number": number,
        "case_type": CaseType.WARN,
        "case_reason": f"reason {number}",
        "case_moderator_id": 900 + number % 2,
        "case_user_id": 500 + number % 3,
        **extra,
    }


@pytest.fixture
async def seeded(guilds: GuildRepository, cases: CaseRepository) -> list[Case]:
    """Guilds 10 and 20 and six cases of guild 10 with varied types, expiries and statuses."""
    await guilds.create({"id": GUILD})
    await guilds.create({"id": OTHER_GUILD, "case_count": 3})
    variants: list[dict[str, Any]] = [
        {"case_type": CaseType.BAN},
        {"case_type": CaseType.TEMPBAN, "case_expires_at": at(10)},
        {"case_type": CaseType.TEMPBAN, "case_expires_at": at(-10), "case_processed": True},
        {"case_type": CaseType.JAIL, "case_user_roles": [1, 2, 3]},
        {"case_type": CaseType.WARN, "case_status": CaseStatus.VOIDED, "case_void_reason": "oops"},
        {"case_type": CaseType.KICK, "case_metadata": {"source": "automod", "score": 0.9}},
    ]
    return [await cases.create(case_row(number, **extra)) for number, extra in enumerate(variants, start=1)]


async def test_create_fills_defaults_and_keys(guilds: GuildRepository, cases: CaseRepository) -> None:
    guild = await guilds.create({"id": GUILD})
    assert (guild.id, guild.case_count) == (GUILD, 0)
    assert guild.guild_joined_at.tzinfo is not None
    case = await cases.create(case_row(1))
    assert isinstance(case.id, int)
    assert case.id > 0
    assert (case.case_status, case.case_processed, case.case_user_roles, case.case_metadata) == (
        CaseStatus.ACTIVE,
        False,
        [],
        {},
    )


async def test_find_by_id(seeded: list[Case], guilds: GuildRepository, cases: CaseRepository) -> None:
    found = await cases.find_by_id(seeded[3].id)
    assert found is not None
    assert (found.case_type, found.case_user_roles) == (CaseType.JAIL, [1, 2, 3])
    kick = await cases.find_by_id(seeded[5].id)
    assert kick is not None
    assert kick.case_metadata == {"source": "automod", "score": 0.9}
    assert await cases.find_by_id(10_000) is None
    guild = await guilds.find_by_id(OTHER_GUILD)
    assert guild is not None
    assert guild.case_count == 3


def numbers(rows: list[Case]) -> list[int]:
    return [row.case_number for row in rows]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [1, 2, 3, 4, 5, 6]),
        ({"case_type": CaseType.TEMPBAN}, [2, 3]),
        ({"case_type": "JAIL"}, [4]),
        ({"case_type__ne": CaseType.TEMPBAN}, [1, 4, 5, 6]),
        ({"case_type__in": [CaseType.BAN, CaseType.KICK]}, [1, 6]),
        ({"case_type__in": []}, []),
        ({"case_type__not_in": {CaseType.BAN, CaseType.KICK, CaseType.TEMPBAN}}, [4, 5]),
        ({"case_number__gt": 4}, [5, 6]),
        ({"case_number__gte": 4}, [4, 5, 6]),
        ({"case_number__lt": 2}, [1]),
        ({"case_number__lte": 2}, [1, 2]),
        ({"case_expires_at__isnull": False}, [2, 3]),
        ({"case_expires_at__isnull": True}, [1, 4, 5, 6]),
        ({"case_expires_at__lt": NOW}, [3]),
        ({"case_processed": True}, [3]),
        ({"case_status": CaseStatus.VOIDED}, [5]),
        ({"case_user_id": 501, "case_moderator_id": 901}, [1]),
        ({"case_type": CaseType.TEMPBAN, "case_processed": False, "case_expires_at__gte": NOW}, [2]),
        ({"guild_id": OTHER_GUILD}, []),
    ],
)
async def test_find_all_filters(
    seeded: list[Case], cases: CaseRepository, filters: dict[str, Any], expected: list[int]
) -> None:
    assert numbers(await cases.find_all(order_by="case_number", **filters)) == expected
    assert await cases.count(**filters) == len(expected)
    assert await cases.exists(**filters) is bool(expected)


async def test_find_all_order_limit_offset(seeded: list[Case], cases: CaseRepository) -> None:
    assert numbers(await cases.find_all(order_by="-case_number")) == [6, 5, 4, 3, 2, 1]
    assert numbers(await cases.find_all(order_by="-case_number", limit=2)) == [6, 5]
    assert numbers(await cases.find_all(order_by="-case_number", limit=2, offset=2)) == [4, 3]
    assert numbers(await cases.find_all(order_by="case_number", offset=5)) == [6]
    assert numbers(await cases.find_all(order_by="case_number", limit=0)) == []
    by_user = await cases.find_all(order_by=["case_user_id", "-case_number"])
    assert [(c.case_user_id, c.case_number) for c in by_user] == [
        (500, 6),
        (500, 3),
        (501, 4),
        (501, 1),
        (502, 5),
        (502, 2),
    ]
    first = await cases.find_one(case_type=CaseType.TEMPBAN)
    assert first is not None
    assert first.case_type is CaseType.TEMPBAN
    assert await cases.find_one(case_type=CaseType.HACKBAN) is None


async def test_exists_and_count_fetch_no_rows(
    client: DatabaseClient, seeded: list[Case], cases: CaseRepository
) -> None:
    with captured_sql(client.engine) as seen:
        assert await cases.exists(case_type=CaseType.BAN)
        assert await cases.count(case_type__in=[CaseType.BAN, CaseType.TEMPBAN]) == 3
    exists_sql, count_sql = (s.upper() for s in queries(seen))
    assert "EXISTS" in exists_sql
    assert "COUNT(" in count_sql
    assert "CASE_REASON" not in exists_sql + count_sql


async def test_update(seeded: list[Case], cases: CaseRepository, guilds: GuildRepository) -> None:
    updated = await cases.update(seeded[0].id, {"case_reason": "edited", "mod_log_message_id": 77})
    assert updated is not None
    assert (updated.case_reason, updated.mod_log_message_id, updated.case_type) == (
        "edited",
        77,
        CaseType.BAN,
    )
    stored = await cases.find_by_id(seeded[0].id)
    assert stored is not None
    assert stored.case_reason == "edited"
    assert await cases.update(10_000, {"case_reason": "x"}) is None
    unchanged = await cases.update(seeded[1].id, {})
    assert unchanged is not None
    assert unchanged.case_reason == "reason 2"
    guild = await guilds.update(GUILD, {"case_count": 6})
    assert guild is not None
    assert guild.case_count == 6


async def test_update_inside_transaction_returns_fresh_values(
    seeded: list[Case], cases: CaseRepository, transactions: TransactionManager
) -> None:
    async with transactions.transaction():
        loaded = await cases.find_by_id(seeded[0].id)
        assert loaded is not None
        updated = await cases.update(seeded[0].id, {"case_reason": "edited in a transaction"})
        assert updated is not None
        assert updated.case_reason == "edited in a transaction"
        assert loaded.case_reason == "edited in a transaction"


async def test_delete(seeded: list[Case], cases: CaseRepository, guilds: GuildRepository) -> None:
    assert await cases.delete(seeded[0].id) is True
    assert await cases.delete(seeded[0].id) is False
    assert await cases.find_by_id(seeded[0].id) is None
    assert await cases.count() == 5
    assert await guilds.delete(GUILD) is True  # cascades to the guild's cases
    assert await cases.count() == 0
    assert await guilds.count() == 1


async def test_upsert_single_key(guilds: GuildRepository, configs: GuildConfigRepository) -> None:
    inserted = await guilds.upsert({"id": GUILD, "case_count": 2})
    assert inserted.case_count == 2
    replaced = await guilds.upsert({"id": GUILD, "case_count": 5})
    assert replaced.case_count == 5
    kept = await guilds.upsert({"id": GUILD, "case_count": 9}, update_fields=[])
    assert kept.case_count == 5
    assert await guilds.count() == 1

    config = await configs.upsert({"id": GUILD, "prefix": "!", "mod_log_id": 3})
    assert (config.prefix, config.mod_log_id, config.onboarding_stage) == (
        "!",
        3,
        OnboardingStage.NOT_STARTED,
    )
    config = await configs.upsert({"id": GUILD, "prefix": "?", "mod_log_id": 4}, update_fields=["prefix"])
    assert (config.prefix, config.mod_log_id) == ("?", 3)
    assert await configs.count() == 1


async def test_guild_config_generic_crud(guilds: GuildRepository, configs: GuildConfigRepository) -> None:
    await guilds.create({"id": GUILD})
    created = await configs.create({"id": GUILD, "onboarding_stage": "CONFIGURED"})
    assert (created.prefix, created.onboarding_stage) == ("$", OnboardingStage.CONFIGURED)
    updated = await configs.update(GUILD, {"onboarding_completed_at": NOW, "jail_role_id": 5})
    assert updated is not None
    assert (updated.onboarding_completed_at, updated.jail_role_id) == (NOW, 5)
    assert await configs.exists(onboarding_completed_at__isnull=False)
    assert await configs.count(jail_role_id__gt=5) == 0
    assert await configs.delete(GUILD) is True
    assert await guilds.exists(id=GUILD)  # deleting the config leaves the guild
