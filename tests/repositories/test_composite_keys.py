"""Composite keys: every generic method addresses ``levels`` and ``afk`` as ``(member_id, guild_id)``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ValidationError
from tux.database.repositories.afk import AfkRepository
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.levels import LevelsRepository

GUILD = 700_000_000_000_000_001
OTHER_GUILD = 700_000_000_000_000_002
MEMBER = 600_000_000_000_000_001


@pytest.fixture
def levels(client: DatabaseClient) -> LevelsRepository:
    return LevelsRepository(client.sessions)


@pytest.fixture
def afk(client: DatabaseClient) -> AfkRepository:
    return AfkRepository(client.sessions)


def afk_row(guild_id: int, member_id: int, **extra: object) -> dict[str, object]:
    return {"guild_id": guild_id, "member_id": member_id, "nickname": "nick", "reason": "lunch", **extra}


async def test_key_order_is_member_then_guild(levels: LevelsRepository, afk: AfkRepository) -> None:
    assert levels.primary_key == ("member_id", "guild_id")
    assert afk.primary_key == ("member_id", "guild_id")


async def test_levels_crud_by_member_and_guild(levels: LevelsRepository) -> None:
    await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=5)
    await levels.add_xp(guild_id=OTHER_GUILD, member_id=MEMBER, amount=9)

    row = await levels.find_by_id((MEMBER, GUILD))
    assert row is not None
    assert (row.guild_id, row.member_id, row.xp) == (GUILD, MEMBER, 5.0)
    assert levels.identity_of(row) == (MEMBER, GUILD)
    assert await levels.find_by_id((GUILD, MEMBER)) is None  # the reversed order names no row

    updated = await levels.update((MEMBER, GUILD), {"level": 2})
    assert updated is not None
    assert (updated.level, updated.xp) == (2, 5.0)
    other = await levels.find_by_id((MEMBER, OTHER_GUILD))
    assert other is not None
    assert other.level == 0  # the other guild's row of the same member is untouched

    assert await levels.update((MEMBER + 1, GUILD), {"level": 2}) is None
    assert await levels.delete((MEMBER, GUILD)) is True
    assert await levels.delete((MEMBER, GUILD)) is False
    assert await levels.find_by_id((MEMBER, GUILD)) is None
    assert await levels.count() == 1


async def test_levels_generic_upsert_on_the_composite_key(levels: LevelsRepository) -> None:
    await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=1)  # makes the guild row
    first = await levels.upsert({"guild_id": GUILD, "member_id": MEMBER + 1, "xp": 3.0})
    assert first.xp == 3.0
    second = await levels.upsert({"guild_id": GUILD, "member_id": MEMBER + 1, "xp": 4.0, "level": 1})
    assert (second.xp, second.level) == (4.0, 1)
    kept = await levels.upsert({"guild_id": GUILD, "member_id": MEMBER + 1, "xp": 99.0}, update_fields=())
    assert kept.xp == 4.0
    assert await levels.count(guild_id=GUILD) == 2


async def test_afk_crud_by_member_and_guild(afk: AfkRepository) -> None:
    await afk.set_afk(afk_row(GUILD, MEMBER))
    await afk.set_afk(afk_row(OTHER_GUILD, MEMBER, reason="elsewhere"))

    row = await afk.find_by_id((MEMBER, GUILD))
    assert row is not None
    assert (row.guild_id, row.member_id, row.reason) == (GUILD, MEMBER, "lunch")
    assert afk.identity_of(row) == (MEMBER, GUILD)
    assert await afk.find_by_id((GUILD, MEMBER)) is None

    updated = await afk.update((MEMBER, GUILD), {"reason": "dinner"})
    assert updated is not None
    assert updated.reason == "dinner"
    other = await afk.find_by_id((MEMBER, OTHER_GUILD))
    assert other is not None
    assert other.reason == "elsewhere"

    assert await afk.delete((MEMBER, GUILD)) is True
    assert await afk.delete((MEMBER, GUILD)) is False
    assert await afk.count() == 1


async def test_afk_generic_upsert_on_the_composite_key(afk: AfkRepository) -> None:
    await afk.set_afk(afk_row(GUILD, MEMBER))
    replaced = await afk.upsert(afk_row(GUILD, MEMBER, reason="upserted"))
    assert replaced.reason == "upserted"
    assert await afk.count() == 1


BAD_IDENTITIES: tuple[Any, ...] = (MEMBER, (MEMBER,), (MEMBER, GUILD, 1), (), ("x", GUILD), (MEMBER, None))


@pytest.mark.parametrize("repository_name", ["levels", "afk"])
async def test_wrong_key_shape_is_a_validation_error(
    request: pytest.FixtureRequest, repository_name: str, levels: LevelsRepository
) -> None:
    repository: SQLAlchemyRepository[Any] = request.getfixturevalue(repository_name)
    await levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=1)
    if repository_name == "afk":
        until = datetime.now(UTC) + timedelta(hours=1)
        await repository.create(afk_row(GUILD, MEMBER, until=until))
    before = await repository.count()
    for identity in BAD_IDENTITIES:
        with pytest.raises(ValidationError):
            await repository.find_by_id(identity)
        with pytest.raises(ValidationError):
            await repository.update(identity, {"guild_id": GUILD})
        with pytest.raises(ValidationError):
            await repository.delete(identity)
    assert await repository.count() == before == 1
