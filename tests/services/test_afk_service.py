"""AfkService on both backends: set/replace/get/clear, validation, and exactly-once expiry."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.repositories import row_counts
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ValidationError
from tux.database.models import AFK
from tux.database.repositories.afk import AfkRepository
from tux.database.services.afk import AfkService
from tux.database.transactions.patterns import TransactionManager

GUILD = 111_111_111_111_111_111
MEMBER = 333_333_333_333_333_331
OTHER = 333_333_333_333_333_332
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def later(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


@pytest.fixture
def afk(client: DatabaseClient) -> AfkRepository:
    return AfkRepository(client.sessions)


@pytest.fixture
def service(transactions: TransactionManager, afk: AfkRepository) -> AfkService:
    return AfkService(transactions, afk=afk)


def fields(entry: AFK | None) -> tuple[object, ...] | None:
    if entry is None:
        return None
    return (
        entry.member_id,
        entry.nickname,
        entry.reason,
        entry.since,
        entry.until,
        entry.enforced,
        entry.perm_afk,
    )


async def test_set_get_and_replace(client: DatabaseClient, service: AfkService) -> None:
    assert await service.get_afk(GUILD, MEMBER) is None
    entry = await service.set_afk(GUILD, MEMBER, "nick", "lunch", now=NOW)
    assert fields(entry) == (MEMBER, "nick", "lunch", NOW, None, False, False)
    assert fields(await service.get_afk(GUILD, MEMBER)) == fields(entry)
    replaced = await service.set_afk(
        GUILD, MEMBER, "nick2", "jailed", until=later(30), enforced=True, now=later(1)
    )
    assert fields(replaced) == (MEMBER, "nick2", "jailed", later(1), later(30), True, False)
    permanent = await service.set_afk(GUILD, MEMBER, "nick3", "away", perm_afk=True, now=later(2))
    assert fields(permanent) == (MEMBER, "nick3", "away", later(2), None, False, True)
    counts = await row_counts(client)
    assert (counts["afk"], counts["guild"]) == (1, 1)


async def test_clear_returns_the_removed_entry_once(service: AfkService) -> None:
    await service.set_afk(GUILD, MEMBER, "nick", "lunch", now=NOW)
    cleared = await service.clear_afk(GUILD, MEMBER)
    assert cleared is not None
    assert cleared.nickname == "nick"
    assert await service.clear_afk(GUILD, MEMBER) is None
    assert await service.get_afk(GUILD, MEMBER) is None


async def test_concurrent_clears_return_the_entry_once(service: AfkService) -> None:
    await service.set_afk(GUILD, MEMBER, "nick", "lunch", now=NOW)
    results = await asyncio.gather(*(service.clear_afk(GUILD, MEMBER) for _ in range(10)))
    assert [result.nickname for result in results if result is not None] == ["nick"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"until": NOW}, "after"),
        ({"until": NOW - timedelta(seconds=1)}, "after"),
        ({"until": datetime(2030, 1, 1)}, "naive"),
        ({"until": later(5), "perm_afk": True}, "permanent"),
        ({"now": datetime(2024, 1, 1)}, "naive"),
    ],
)
async def test_set_afk_validates_times(
    client: DatabaseClient, service: AfkService, kwargs: dict[str, object], match: str
) -> None:
    arguments: dict[str, object] = {"now": NOW, **kwargs}
    with pytest.raises(ValidationError, match=match):
        await service.set_afk(GUILD, MEMBER, "nick", "reason", **arguments)  # type: ignore[arg-type]
    assert (await row_counts(client))["afk"] == 0


@pytest.mark.parametrize(
    ("nickname", "reason"), [("x" * 101, "r"), ("n", "x" * 501), ("n\x00", "r"), (None, "r")]
)
async def test_set_afk_rejects_bad_text(
    client: DatabaseClient, service: AfkService, nickname: object, reason: str
) -> None:
    with pytest.raises(ValidationError):
        await service.set_afk(GUILD, MEMBER, nickname, reason, now=NOW)  # type: ignore[arg-type]
    assert (await row_counts(client))["afk"] == 0


async def test_clear_expired_removes_due_timed_entries_once(service: AfkService) -> None:
    await service.set_afk(GUILD, MEMBER, "a", "timed", until=later(10), now=NOW)
    await service.set_afk(GUILD, OTHER, "b", "timed later", until=later(60), now=NOW)
    await service.set_afk(GUILD, OTHER + 1, "c", "untimed", now=NOW)
    assert await service.clear_expired(later(9)) == []
    assert [entry.member_id for entry in await service.clear_expired(later(10))] == [MEMBER]
    assert await service.clear_expired(later(10)) == []
    assert [entry.member_id for entry in await service.clear_expired(later(600))] == [OTHER]
    remaining = await service.get_afk(GUILD, OTHER + 1)
    assert remaining is not None


async def test_concurrent_expiry_loops_return_each_entry_once(service: AfkService) -> None:
    members = [MEMBER + i for i in range(30)]
    for member in members:
        await service.set_afk(GUILD, member, "n", "r", until=later(1), now=NOW)
    first, second = await asyncio.gather(service.clear_expired(later(5)), service.clear_expired(later(5)))
    returned = [entry.member_id for entry in [*first, *second]]
    assert sorted(returned) == members


async def test_clear_expired_validates(service: AfkService) -> None:
    with pytest.raises(ValidationError):
        await service.clear_expired(datetime(2024, 1, 1))
    with pytest.raises(ValidationError):
        await service.clear_expired(NOW, limit=0)
