"""``ReminderRepository`` on both backends: pending lists and exactly-once claiming of due reminders."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import CheckViolationError, ValidationError
from tux.database.models import Reminder
from tux.database.repositories.reminders import ReminderRepository
from tux.database.repositories.support import insert_guild_if_missing
from tux.database.settings import DatabaseSettings

GUILD = 110_000_000_000_000_001
OTHER_GUILD = 110_000_000_000_000_002
USER = 120_000_000_000_000_001
CHANNEL = 130_000_000_000_000_001
NOW = datetime(2031, 6, 1, 8, 30, tzinfo=UTC)


@pytest.fixture
async def reminders(client: DatabaseClient) -> ReminderRepository:
    async with client.sessions.writing() as session:
        for guild in (GUILD, OTHER_GUILD):
            await insert_guild_if_missing(client.sessions, session, guild)
    return ReminderRepository(client.sessions)


async def remind(
    reminders: ReminderRepository,
    expires_at: datetime,
    *,
    guild_id: int = GUILD,
    user_id: int = USER,
    sent: bool = False,
    content: str = "do the thing",
) -> Reminder:
    return await reminders.create(
        {
            "reminder_content": content,
            "reminder_expires_at": expires_at,
            "reminder_channel_id": CHANNEL,
            "reminder_user_id": user_id,
            "reminder_sent": sent,
            "guild_id": guild_id,
        }
    )


async def test_pending_lists_unsent_soonest_first_with_optional_filters(
    reminders: ReminderRepository,
) -> None:
    late = await remind(reminders, NOW + timedelta(hours=2))
    soon = await remind(reminders, NOW + timedelta(minutes=1))
    other_user = await remind(reminders, NOW, user_id=USER + 1)
    other_guild = await remind(reminders, NOW - timedelta(days=1), guild_id=OTHER_GUILD)
    await remind(reminders, NOW - timedelta(days=2), sent=True)

    def ids(rows: list[Reminder]) -> list[int]:
        return [row.reminder_id for row in rows]

    everything = [other_guild.reminder_id, other_user.reminder_id, soon.reminder_id, late.reminder_id]
    assert ids(await reminders.pending()) == everything
    assert ids(await reminders.pending(guild_id=GUILD)) == everything[1:]
    assert ids(await reminders.pending(user_id=USER)) == [
        other_guild.reminder_id,
        soon.reminder_id,
        late.reminder_id,
    ]
    assert ids(await reminders.pending(guild_id=GUILD, user_id=USER)) == [soon.reminder_id, late.reminder_id]
    assert await reminders.pending(guild_id=999) == []
    with pytest.raises(ValidationError):
        await reminders.pending(guild_id="1")  # type: ignore[arg-type]


async def test_claim_due_marks_sent_and_returns_each_once(reminders: ReminderRepository) -> None:
    first = await remind(reminders, NOW - timedelta(hours=1))
    second = await remind(reminders, NOW, guild_id=OTHER_GUILD)  # due exactly now
    future = await remind(reminders, NOW + timedelta(seconds=1))
    await remind(reminders, NOW - timedelta(days=1), sent=True)

    claimed = await reminders.claim_due(NOW)
    assert [r.reminder_id for r in claimed] == [first.reminder_id, second.reminder_id]
    assert all(r.reminder_sent for r in claimed)
    assert await reminders.claim_due(NOW) == []
    assert [r.reminder_id for r in await reminders.pending()] == [future.reminder_id]
    later = await reminders.claim_due(NOW + timedelta(days=1))
    assert [r.reminder_id for r in later] == [future.reminder_id]


async def test_claim_due_respects_the_limit_soonest_first(reminders: ReminderRepository) -> None:
    made = [await remind(reminders, NOW - timedelta(minutes=m)) for m in range(5)]
    oldest_first = [r.reminder_id for r in reversed(made)]
    batch = await reminders.claim_due(NOW, limit=2)
    assert [r.reminder_id for r in batch] == oldest_first[:2]
    rest = await reminders.claim_due(NOW, limit=10)
    assert [r.reminder_id for r in rest] == oldest_first[2:]


async def test_claim_due_rejects_bad_arguments(reminders: ReminderRepository) -> None:
    for now, limit in ((datetime(2031, 1, 1), 10), (None, 10), (NOW, 0), (NOW, -5), (NOW, 2.5)):
        with pytest.raises(ValidationError):
            await reminders.claim_due(now, limit)  # type: ignore[arg-type]


async def test_bad_reminder_input_writes_nothing(reminders: ReminderRepository) -> None:
    for content in ("x" * 2001, "nul\x00"):
        with pytest.raises(ValidationError):
            await remind(reminders, NOW, content=content)
    with pytest.raises(CheckViolationError):
        await remind(reminders, NOW, content="")  # length >= 1 is a CHECK in the schema
    with pytest.raises(ValidationError):
        await remind(reminders, datetime(2031, 1, 1))  # naive
    assert await reminders.count() == 0


async def _drain(reminders: ReminderRepository, now: datetime, claimers: int) -> list[int]:
    """Run ``claimers`` concurrent loops that claim small batches until nothing is left."""

    async def loop() -> list[int]:
        got: list[int] = []
        while batch := await reminders.claim_due(now, limit=7):
            got.extend(r.reminder_id for r in batch)
        return got

    results = await asyncio.gather(*(loop() for _ in range(claimers)))
    return [reminder_id for result in results for reminder_id in result]


async def test_concurrent_claimers_on_two_clients_get_each_reminder_once(
    client: DatabaseClient, database_url: str, reminders: ReminderRepository
) -> None:
    """Two bot processes (two clients, two pools) draining the same queue never share a reminder."""
    due = [await remind(reminders, NOW - timedelta(seconds=i)) for i in range(150)]
    not_due = [await remind(reminders, NOW + timedelta(seconds=1 + i)) for i in range(10)]
    second_client = DatabaseClient(DatabaseSettings(database_url=database_url))
    await second_client.connect()
    try:
        second = ReminderRepository(second_client.sessions)
        first_ids, second_ids = await asyncio.gather(_drain(reminders, NOW, 4), _drain(second, NOW, 4))
    finally:
        await second_client.close()
    claimed = first_ids + second_ids
    assert len(claimed) == len(set(claimed))  # nobody got a reminder twice
    assert set(claimed) == {r.reminder_id for r in due}  # and every due one was handed out
    assert {r.reminder_id for r in await reminders.pending()} == {r.reminder_id for r in not_due}
    assert await reminders.count(reminder_sent=True) == len(due)
