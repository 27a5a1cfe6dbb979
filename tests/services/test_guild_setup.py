"""GuildSetupService on both backends: onboarding creates everything once, atomically, idempotently."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

import pytest
from sqlalchemy import select

from tests.repositories import row_counts
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ValidationError
from tux.database.models import Guild, GuildConfig, OnboardingStage, PermissionRank
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.guild_config import GuildConfigRepository
from tux.database.repositories.permissions import PermissionRankRepository
from tux.database.services.guild_setup import DEFAULT_RANKS, GuildSetupService, OnboardingSummary
from tux.database.transactions.patterns import TransactionManager

GUILD = 111_111_111_111_111_111
OTHER_GUILD = 222_222_222_222_222_222
RANK_NAMES = [
    "Member",
    "Trusted",
    "Junior Moderator",
    "Moderator",
    "Senior Moderator",
    "Administrator",
    "Head Administrator",
    "Server Owner",
]


@pytest.fixture
def guilds(client: DatabaseClient) -> GuildRepository:
    return GuildRepository(client.sessions)


@pytest.fixture
def configs(client: DatabaseClient) -> GuildConfigRepository:
    return GuildConfigRepository(client.sessions)


@pytest.fixture
def ranks(client: DatabaseClient) -> PermissionRankRepository:
    return PermissionRankRepository(client.sessions)


def make_service(
    transactions: TransactionManager,
    guilds: GuildRepository,
    configs: GuildConfigRepository,
    ranks: PermissionRankRepository,
) -> GuildSetupService:
    return GuildSetupService(transactions, guilds=guilds, guild_configs=configs, permissions=ranks)


@pytest.fixture
def service(
    transactions: TransactionManager,
    guilds: GuildRepository,
    configs: GuildConfigRepository,
    ranks: PermissionRankRepository,
) -> GuildSetupService:
    return make_service(transactions, guilds, configs, ranks)


async def snapshot(client: DatabaseClient) -> list[tuple[Any, ...]]:
    """Every column of every guild, config and rank row, to prove a second onboarding changed nothing."""
    rows: list[tuple[Any, ...]] = []
    async with client.session_factory() as session:
        for model, order in (
            (Guild, Guild.id),
            (GuildConfig, GuildConfig.id),
            (PermissionRank, PermissionRank.id),
        ):
            for row in (await session.scalars(select(model).order_by(order))).all():
                rows.append(tuple(getattr(row, column.key) for column in model.__table__.columns))
    return rows


async def test_onboarding_creates_guild_config_and_default_ranks(
    service: GuildSetupService, configs: GuildConfigRepository, ranks: PermissionRankRepository
) -> None:
    summary = await service.onboard(GUILD, prefix="!")
    assert summary == OnboardingSummary(guild_id=GUILD, prefix="!", config_created=True, ranks_created=8)
    assert summary.changed
    config = await configs.find_by_id(GUILD)
    assert config is not None
    assert (config.prefix, config.onboarding_stage) == ("!", OnboardingStage.INITIALIZED)
    created = await ranks.ranks_of_guild(GUILD)
    assert [(rank.rank, rank.name) for rank in created] == list(enumerate(RANK_NAMES))
    assert all(rank.description for rank in created)


async def test_default_prefix(service: GuildSetupService) -> None:
    assert (await service.onboard(GUILD)).prefix == "$"


async def test_onboarding_twice_changes_nothing(client: DatabaseClient, service: GuildSetupService) -> None:
    await service.onboard(GUILD, prefix="!")
    counts, rows = await row_counts(client), await snapshot(client)
    again = await service.onboard(GUILD, prefix="?")
    assert again == OnboardingSummary(guild_id=GUILD, prefix="!", config_created=False, ranks_created=0)
    assert not again.changed
    assert await row_counts(client) == counts
    assert await snapshot(client) == rows


async def test_onboarding_keeps_existing_settings_and_fills_gaps(
    service: GuildSetupService, configs: GuildConfigRepository, ranks: PermissionRankRepository
) -> None:
    await configs.upsert_config(GUILD, {"prefix": "tux.", "mod_log_id": 42})
    await ranks.ensure_ranks(GUILD, [{"rank": 3, "name": "Mods"}])
    summary = await service.onboard(GUILD, prefix="!")
    assert summary == OnboardingSummary(guild_id=GUILD, prefix="tux.", config_created=False, ranks_created=7)
    config = await configs.find_by_id(GUILD)
    assert config is not None
    assert (config.prefix, config.mod_log_id, config.onboarding_stage) == (
        "tux.",
        42,
        OnboardingStage.NOT_STARTED,
    )
    names = [rank.name for rank in await ranks.ranks_of_guild(GUILD)]
    assert names == [*RANK_NAMES[:3], "Mods", *RANK_NAMES[4:]]


async def test_guilds_are_onboarded_independently(client: DatabaseClient, service: GuildSetupService) -> None:
    await service.onboard(GUILD)
    assert (await service.onboard(OTHER_GUILD)).ranks_created == 8
    counts = await row_counts(client)
    assert (counts["guild"], counts["guild_config"], counts["permission_ranks"]) == (2, 2, 16)


@pytest.mark.parametrize("existing_guild_row", [False, True])
async def test_concurrent_onboarding_creates_one_set(
    client: DatabaseClient,
    service: GuildSetupService,
    guilds: GuildRepository,
    ranks: PermissionRankRepository,
    existing_guild_row: bool,
) -> None:
    if existing_guild_row:
        await guilds.ensure(GUILD)
    summaries = await asyncio.gather(*(service.onboard(GUILD, prefix="!") for _ in range(20)))
    assert sum(summary.config_created for summary in summaries) == 1
    assert sum(summary.ranks_created for summary in summaries) == 8
    assert {summary.prefix for summary in summaries} == {"!"}
    counts = await row_counts(client)
    assert (counts["guild"], counts["guild_config"], counts["permission_ranks"]) == (1, 1, 8)
    assert [rank.name for rank in await ranks.ranks_of_guild(GUILD)] == RANK_NAMES


@pytest.mark.parametrize("prefix", ["", "x" * 11, " $", "$ ", "a\nb", "\x00", 5])
async def test_bad_prefix_is_rejected_before_writing(
    client: DatabaseClient, service: GuildSetupService, prefix: object
) -> None:
    with pytest.raises(ValidationError):
        await service.onboard(GUILD, prefix=prefix)  # type: ignore[arg-type]
    assert (await row_counts(client))["guild"] == 0


class FailingRanks(PermissionRankRepository):
    """Fails where the ranks would be inserted, after the guild and config rows were written."""

    async def ensure_ranks(self, guild_id: int, ranks: Sequence[Mapping[str, object]]) -> int:
        raise RuntimeError("injected failure")


async def test_a_failure_rolls_back_the_whole_onboarding(
    client: DatabaseClient,
    transactions: TransactionManager,
    guilds: GuildRepository,
    configs: GuildConfigRepository,
) -> None:
    failing = make_service(transactions, guilds, configs, FailingRanks(client.sessions))
    with pytest.raises(RuntimeError, match="injected"):
        await failing.onboard(GUILD)
    counts = await row_counts(client)
    assert (counts["guild"], counts["guild_config"], counts["permission_ranks"]) == (0, 0, 0)


def test_default_ranks_are_tux_ranks() -> None:
    assert [(rank["rank"], rank["name"]) for rank in DEFAULT_RANKS] == list(enumerate(RANK_NAMES))
