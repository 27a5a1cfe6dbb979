"""Starboard repositories on both backends: configuration upsert and atomic, clamped star counts."""

from __future__ import annotations

import asyncio

import pytest

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import CheckViolationError, ConflictError, UnknownFieldError, ValidationError
from tux.database.models import Guild, StarboardMessage
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.starboard import StarboardMessageRepository, StarboardRepository
from tux.database.repositories.support import insert_guild_if_missing

GUILD = 140_000_000_000_000_001
OTHER_GUILD = 140_000_000_000_000_002
CHANNEL = 150_000_000_000_000_001
MESSAGE = 160_000_000_000_000_001
REPOST = 170_000_000_000_000_001
AUTHOR = 180_000_000_000_000_001


class Guilds(SQLAlchemyRepository[Guild]):
    model = Guild


@pytest.fixture
def starboards(client: DatabaseClient) -> StarboardRepository:
    return StarboardRepository(client.sessions)


@pytest.fixture
def guilds(client: DatabaseClient) -> Guilds:
    return Guilds(client.sessions)


@pytest.fixture
async def messages(client: DatabaseClient) -> StarboardMessageRepository:
    async with client.sessions.writing() as session:
        for guild in (GUILD, OTHER_GUILD):
            await insert_guild_if_missing(client.sessions, session, guild)
    return StarboardMessageRepository(client.sessions)


async def post(
    messages: StarboardMessageRepository, message_id: int = MESSAGE, *, guild_id: int = GUILD, stars: int = 0
) -> StarboardMessage:
    return await messages.create(
        {
            "message_id": message_id,
            "message_content": "look at this",
            "message_channel_id": CHANNEL,
            "message_user_id": AUTHOR,
            "message_guild_id": guild_id,
            "star_count": stars,
            "starboard_message_id": REPOST + message_id - MESSAGE,
        }
    )


async def test_upsert_starboard_creates_then_updates_given_fields(
    starboards: StarboardRepository, guilds: Guilds
) -> None:
    created = await starboards.upsert_starboard(
        GUILD, {"starboard_channel_id": CHANNEL, "starboard_emoji": "⭐"}
    )
    assert (created.guild_id, created.starboard_channel_id, created.starboard_emoji) == (GUILD, CHANNEL, "⭐")
    assert created.starboard_threshold == 1
    assert await guilds.find_by_id(GUILD) is not None
    raised = await starboards.upsert_starboard(
        GUILD, {"starboard_channel_id": CHANNEL, "starboard_emoji": "⭐", "starboard_threshold": 5}
    )
    assert raised.starboard_threshold == 5
    moved = await starboards.upsert_starboard(
        GUILD, {"guild_id": GUILD, "starboard_channel_id": CHANNEL + 1, "starboard_emoji": "🌟"}
    )
    assert (moved.starboard_channel_id, moved.starboard_emoji, moved.starboard_threshold) == (
        CHANNEL + 1,
        "🌟",
        5,
    )
    assert await starboards.count() == 1
    stored = await starboards.find_by_id(GUILD)
    assert stored is not None
    assert stored.starboard_threshold == 5


async def test_concurrent_upserts_of_one_guild_leave_one_row(starboards: StarboardRepository) -> None:
    await asyncio.gather(
        *(
            starboards.upsert_starboard(
                GUILD,
                {"starboard_channel_id": CHANNEL, "starboard_emoji": "⭐", "starboard_threshold": 1 + i},
            )
            for i in range(20)
        )
    )
    rows = await starboards.find_all()
    assert len(rows) == 1
    assert 1 <= rows[0].starboard_threshold <= 20


async def test_upsert_starboard_rejects_bad_input(starboards: StarboardRepository, guilds: Guilds) -> None:
    good: dict[str, object] = {"starboard_channel_id": CHANNEL, "starboard_emoji": "⭐"}
    bad_payloads: list[dict[str, object]] = [
        {**good, "starboard_threshold": 0},
        {**good, "starboard_threshold": -2},
        {**good, "starboard_emoji": "x" * 65},
        {**good, "starboard_emoji": "\x00"},
        {**good, "guild_id": OTHER_GUILD},
        {"starboard_emoji": "⭐"},  # channel missing
        {**good, "colour": "gold"},
    ]
    for payload in bad_payloads:
        with pytest.raises(ValidationError):
            await starboards.upsert_starboard(GUILD, payload)
    with pytest.raises(UnknownFieldError):
        await starboards.upsert_starboard(GUILD, {**good, "colour": "gold"})
    with pytest.raises(CheckViolationError):
        await starboards.upsert_starboard(GUILD, {**good, "starboard_emoji": ""})
    assert await starboards.count() == 0
    assert await guilds.count() == 0


async def test_change_stars_adds_and_clamps_at_zero(messages: StarboardMessageRepository) -> None:
    await post(messages, stars=2)
    assert await messages.change_stars(message_id=MESSAGE, guild_id=GUILD, delta=3) == 5
    assert await messages.change_stars(message_id=MESSAGE, guild_id=GUILD, delta=-1) == 4
    assert await messages.change_stars(message_id=MESSAGE, guild_id=GUILD, delta=-10) == 0
    assert await messages.change_stars(message_id=MESSAGE, guild_id=GUILD, delta=0) == 0
    assert await messages.change_stars(message_id=MESSAGE, guild_id=GUILD, delta=1) == 1
    stored = await messages.find_by_id(MESSAGE)
    assert stored is not None
    assert stored.star_count == 1


async def test_change_stars_of_an_unknown_or_foreign_message_is_none(
    messages: StarboardMessageRepository,
) -> None:
    await post(messages, stars=2)
    assert await messages.change_stars(message_id=MESSAGE + 99, guild_id=GUILD, delta=1) is None
    assert await messages.change_stars(message_id=MESSAGE, guild_id=OTHER_GUILD, delta=1) is None
    stored = await messages.find_by_id(MESSAGE)
    assert stored is not None
    assert stored.star_count == 2


async def test_change_stars_rejects_bad_delta(messages: StarboardMessageRepository) -> None:
    await post(messages)
    for delta in (1.5, "1", True, None, 2**40):
        with pytest.raises(ValidationError):
            await messages.change_stars(message_id=MESSAGE, guild_id=GUILD, delta=delta)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await messages.change_stars(message_id="1", guild_id=GUILD, delta=1)  # type: ignore[arg-type]


async def test_concurrent_star_changes_are_all_applied(
    backend: str, messages: StarboardMessageRepository
) -> None:
    await post(messages)
    calls = 300 if backend == "postgresql" else 100
    deltas = [1 if i % 3 else -1 for i in range(calls)]  # never enough removals to reach zero early...
    await messages.change_stars(message_id=MESSAGE, guild_id=GUILD, delta=calls)  # ...with this head start
    await asyncio.gather(
        *(messages.change_stars(message_id=MESSAGE, guild_id=GUILD, delta=d) for d in deltas)
    )
    stored = await messages.find_by_id(MESSAGE)
    assert stored is not None
    assert stored.star_count == calls + sum(deltas)


async def test_find_by_starboard_message(messages: StarboardMessageRepository) -> None:
    await post(messages)
    await post(messages, MESSAGE + 1, guild_id=OTHER_GUILD)
    found = await messages.find_by_starboard_message(GUILD, REPOST)
    assert found is not None
    assert found.message_id == MESSAGE
    assert await messages.find_by_starboard_message(OTHER_GUILD, REPOST) is None
    assert await messages.find_by_starboard_message(GUILD, REPOST + 1) is None
    other = await messages.find_by_starboard_message(OTHER_GUILD, REPOST + 1)
    assert other is not None
    assert other.message_id == MESSAGE + 1


async def test_duplicate_message_is_a_conflict(messages: StarboardMessageRepository) -> None:
    await post(messages)
    with pytest.raises(ConflictError):
        await post(messages)
    assert await messages.count() == 1
