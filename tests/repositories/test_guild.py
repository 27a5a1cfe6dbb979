"""GuildRepository on both backends: ``ensure`` and the guild-row helper other repositories share."""

from __future__ import annotations

import asyncio

import pytest

from tests.repositories import Call, assert_rejected_before_sql, captured_sql, queries, row_counts
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import CheckViolationError
from tux.database.models import Guild
from tux.database.repositories.cases import CaseRepository
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.support import page_size
from tux.database.transactions.patterns import TransactionManager

GUILD = 4242


@pytest.fixture
def guilds(client: DatabaseClient) -> GuildRepository:
    return GuildRepository(client.sessions)


async def test_ensure_creates_then_returns_the_existing_row(guilds: GuildRepository) -> None:
    created = await guilds.ensure(GUILD)
    assert (created.id, created.case_count) == (GUILD, 0)
    assert created.guild_joined_at.tzinfo is not None
    await guilds.update(GUILD, {"case_count": 7})
    again = await guilds.ensure(GUILD)
    assert (again.id, again.case_count, again.guild_joined_at) == (GUILD, 7, created.guild_joined_at)
    assert await guilds.count() == 1


async def test_ensure_does_not_rewrite_an_existing_row(
    client: DatabaseClient, guilds: GuildRepository
) -> None:
    await guilds.ensure(GUILD)
    with captured_sql(client.engine) as seen:
        await guilds.ensure(GUILD)
    statements = [s.upper() for s in queries(seen)]
    assert len(statements) == 2
    assert "DO NOTHING" in statements[0]
    assert statements[1].startswith("SELECT")
    assert not any(s.startswith("UPDATE") or "DO UPDATE" in s for s in statements)


async def test_ensure_joins_the_callers_transaction(
    guilds: GuildRepository, transactions: TransactionManager
) -> None:
    async def ensure_then_fail() -> None:
        async with transactions.transaction():
            await guilds.ensure(GUILD)
            assert await guilds.exists(id=GUILD)
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        await ensure_then_fail()
    assert not await guilds.exists(id=GUILD)


async def test_concurrent_ensure_of_one_guild(guilds: GuildRepository) -> None:
    results = await asyncio.gather(*(guilds.ensure(GUILD) for _ in range(20)))
    assert {guild.id for guild in results} == {GUILD}
    assert await guilds.count() == 1


async def test_ensure_validates_before_sql(client: DatabaseClient, guilds: GuildRepository) -> None:
    calls: dict[str, Call] = {
        "2**64": lambda: guilds.ensure(2**64),
        "-2**63-1": lambda: guilds.ensure(-(2**63) - 1),
        "str": lambda: guilds.ensure("1"),  # type: ignore[arg-type]
        "bool": lambda: guilds.ensure(True),
        "None": lambda: guilds.ensure(None),  # type: ignore[arg-type]
        "float": lambda: guilds.ensure(1.0),  # type: ignore[arg-type]
    }
    await assert_rejected_before_sql(client.engine, calls)
    assert (await row_counts(client))["guild"] == 0


async def test_ensure_non_positive_id_hits_the_check(guilds: GuildRepository) -> None:
    with pytest.raises(CheckViolationError) as caught:
        await guilds.ensure(0)
    assert caught.value.constraint == "ck_guild_id_positive"
    assert await guilds.count() == 0


async def test_ensure_returns_the_model_type(guilds: GuildRepository) -> None:
    assert isinstance(await guilds.ensure(GUILD), Guild)
    assert guilds.primary_key == ("id",)


def test_page_size_bounds() -> None:
    assert page_size(1) == 1
    assert page_size(1000) == 1000
    for bad in (0, 1001, -5, True, 2.0, "5", None):
        with pytest.raises(ValueError, match="between 1 and 1000"):
            page_size(bad)


async def test_ensure_in_a_transaction_sees_the_current_counter(
    guilds: GuildRepository, client: DatabaseClient, transactions: TransactionManager
) -> None:
    cases = CaseRepository(client.sessions)
    async with transactions.transaction():
        assert (await guilds.ensure(GUILD)).case_count == 0
        assert await cases.get_next_case_number(GUILD) == 1
        assert (await guilds.ensure(GUILD)).case_count == 1
