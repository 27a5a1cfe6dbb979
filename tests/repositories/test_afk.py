"""``AfkRepository`` on both backends: replace-on-set, remove, expiry, bad input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import CheckViolationError, UnknownFieldError, ValidationError
from tux.database.models import Guild
from tux.database.repositories.afk import AfkRepository
from tux.database.repositories.base import SQLAlchemyRepository

GUILD = 210_000_000_000_000_001
OTHER_GUILD = 210_000_000_000_000_002
MEMBER = 220_000_000_000_000_001
NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class Guilds(SQLAlchemyRepository[Guild]):
    model = Guild


@pytest.fixture
def afk(client: DatabaseClient) -> AfkRepository:
    return AfkRepository(client.sessions)


@pytest.fixture
def guilds(client: DatabaseClient) -> Guilds:
    return Guilds(client.sessions)


def entry(member_id: int = MEMBER, guild_id: int = GUILD, **extra: object) -> dict[str, object]:
    return {"guild_id": guild_id, "member_id": member_id, "nickname": "Nick", "reason": "away", **extra}


async def test_set_afk_creates_entry_and_guild(afk: AfkRepository, guilds: Guilds) -> None:
    before = datetime.now(UTC)
    row = await afk.set_afk(entry(enforced=True))
    assert (row.guild_id, row.member_id, row.nickname, row.reason) == (GUILD, MEMBER, "Nick", "away")
    assert (row.enforced, row.perm_afk, row.until) == (True, False, None)
    assert row.since >= before - timedelta(seconds=1)
    assert row.since.tzinfo is not None
    assert await guilds.find_by_id(GUILD) is not None


async def test_set_afk_replaces_the_whole_entry(afk: AfkRepository) -> None:
    await afk.set_afk(entry(since=NOW, until=NOW + timedelta(hours=1), enforced=True, perm_afk=True))
    replaced = await afk.set_afk(entry(nickname="New", reason="back later", since=NOW + timedelta(minutes=5)))
    assert (replaced.nickname, replaced.reason, replaced.since) == (
        "New",
        "back later",
        NOW + timedelta(minutes=5),
    )
    assert (replaced.until, replaced.enforced, replaced.perm_afk) == (None, False, False)  # nothing leaks
    stored = await afk.find_by_id((MEMBER, GUILD))
    assert stored is not None
    assert stored.nickname == "New"
    assert await afk.count() == 1


async def test_concurrent_set_afk_of_one_member_leaves_one_entry(afk: AfkRepository) -> None:
    await asyncio.gather(*(afk.set_afk(entry(reason=f"reason {i}")) for i in range(20)))
    rows = await afk.find_all()
    assert len(rows) == 1
    assert rows[0].reason.startswith("reason ")


async def test_remove(afk: AfkRepository) -> None:
    await afk.set_afk(entry())
    await afk.set_afk(entry(guild_id=OTHER_GUILD))
    assert await afk.remove(guild_id=GUILD, member_id=MEMBER) is True
    assert await afk.remove(guild_id=GUILD, member_id=MEMBER) is False
    assert await afk.find_by_id((MEMBER, GUILD)) is None
    assert await afk.find_by_id((MEMBER, OTHER_GUILD)) is not None


async def test_find_expired_returns_due_timed_entries_soonest_first(afk: AfkRepository) -> None:
    since = NOW - timedelta(days=1)
    await afk.set_afk(entry(1, since=since, until=NOW - timedelta(minutes=1)))
    await afk.set_afk(entry(2, since=since, until=NOW))  # exactly now counts as expired
    await afk.set_afk(entry(3, since=since, until=NOW + timedelta(seconds=1)))
    await afk.set_afk(entry(4, since=since))  # no until: never expires
    await afk.set_afk(entry(5, since=since, until=NOW - timedelta(hours=2), guild_id=OTHER_GUILD))
    expired = await afk.find_expired(NOW)
    assert [(row.member_id, row.guild_id) for row in expired] == [(5, OTHER_GUILD), (1, GUILD), (2, GUILD)]
    assert [row.member_id for row in await afk.find_expired(NOW, limit=1)] == [5]
    assert await afk.find_expired(NOW - timedelta(days=1)) == []


async def test_find_expired_rejects_bad_arguments(afk: AfkRepository) -> None:
    for now, limit in ((datetime(2030, 1, 1), 10), (None, 10), ("now", 10), (NOW, 0), (NOW, -1)):
        with pytest.raises(ValidationError):
            await afk.find_expired(now, limit)  # type: ignore[arg-type]


async def test_bad_input_writes_nothing(afk: AfkRepository, guilds: Guilds) -> None:
    bad_entries: list[dict[str, object]] = [
        {"guild_id": GUILD, "member_id": MEMBER, "nickname": "Nick"},  # reason missing
        entry(mood="sleepy"),
        entry(reason="r" * 501),
        entry(nickname="with\x00nul"),
        entry(until=datetime(2030, 1, 1)),  # naive
        entry(enforced="yes"),
    ]
    for bad in bad_entries:
        with pytest.raises(ValidationError):
            await afk.set_afk(bad)
    with pytest.raises(UnknownFieldError):
        await afk.set_afk(entry(mood="sleepy"))
    with pytest.raises(CheckViolationError):
        await afk.set_afk(entry(since=NOW, until=NOW - timedelta(seconds=1)))  # until must follow since
    assert await afk.count() == 0
    assert await guilds.count() == 0  # the guild row of the failed upsert rolled back with it
