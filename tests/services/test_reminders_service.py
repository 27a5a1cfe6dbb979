"""ReminderService on both backends: validation, pending lists, and claiming due reminders exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tests.repositories import row_counts
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ValidationError
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.reminders import ReminderRepository
from tux.database.services.reminders import ReminderService
from tux.database.transactions.patterns import TransactionManager

GUILD = 111_111_111_111_111_111
OTHER_GUILD = 222_222_222_222_222_222
USER = 333_333_333_333_333_331
OTHER_USER = 333_333_333_333_333_332
CHANNEL = 666_666_666_666_666_661
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def later(minutes: float) -> datetime:
    return NOW + timedelta(minutes=minutes)


@pytest.fixture
def reminders(client: DatabaseClient) -> ReminderRepository:
    return ReminderRepository(client.sessions)


@pytest.fixture
def service(transactions: TransactionManager, reminders: ReminderRepository) -> ReminderService:
    return ReminderService(transactions, reminders=reminders, guilds=GuildRepository(reminders.sessions))


async def remind(service: ReminderService, minutes: float, *, user: int = USER, guild: int = GUILD) -> int:
    reminder = await service.create(guild, user, CHANNEL, f"in {minutes} min", later(minutes), now=NOW)
    return reminder.reminder_id


async def test_create_and_pending(service: ReminderService) -> None:
    created = await service.create(GUILD, USER, CHANNEL, "take out the trash", later(30), now=NOW)
    assert (created.reminder_content, created.reminder_expires_at, created.reminder_created_at) == (
        "take out the trash",
        later(30),
        NOW,
    )
    assert not created.reminder_sent
    other = await remind(service, 10, user=OTHER_USER, guild=OTHER_GUILD)
    assert [r.reminder_id for r in await service.pending()] == [other, created.reminder_id]
    assert [r.reminder_id for r in await service.pending(guild_id=GUILD)] == [created.reminder_id]
    assert [r.reminder_id for r in await service.pending(user_id=OTHER_USER)] == [other]


@pytest.mark.parametrize(
    ("content", "expires_at", "match"),
    [
        ("x", NOW, "future"),
        ("x", NOW - timedelta(minutes=1), "future"),
        ("x", datetime(2030, 1, 1), "naive"),
        ("", later(1), "text"),
        ("  \n", later(1), "text"),
        ("x" * 2001, later(1), "2000"),
        ("nul\x00", later(1), "NUL"),
        (None, later(1), "required"),
    ],
)
async def test_create_validates_before_writing(
    client: DatabaseClient, service: ReminderService, content: object, expires_at: datetime, match: str
) -> None:
    with pytest.raises(ValidationError, match=match):
        await service.create(GUILD, USER, CHANNEL, content, expires_at, now=NOW)  # type: ignore[arg-type]
    counts = await row_counts(client)
    assert (counts["reminder"], counts["guild"]) == (0, 0)


async def test_content_of_2000_characters_is_accepted(service: ReminderService) -> None:
    created = await service.create(GUILD, USER, CHANNEL, "x" * 2000, later(1), now=NOW)
    assert len(created.reminder_content) == 2000


async def test_claim_due_marks_sent_before_delivery(
    service: ReminderService, reminders: ReminderRepository
) -> None:
    soon, later_one, due_first = await remind(service, 5), await remind(service, 60), await remind(service, 1)
    assert await service.claim_due(NOW) == []
    claimed = await service.claim_due(later(5))
    assert [r.reminder_id for r in claimed] == [due_first, soon]
    assert all(r.reminder_sent for r in claimed)
    # A restart before delivery: the next claim must not hand them out again.
    assert await service.claim_due(later(5)) == []
    assert [r.reminder_id for r in await service.pending()] == [later_one]
    stored = await reminders.find_by_id(soon)
    assert stored is not None
    assert stored.reminder_sent


async def test_claim_due_respects_the_limit(service: ReminderService) -> None:
    ids = [await remind(service, minute) for minute in range(1, 6)]
    first = await service.claim_due(later(10), limit=2)
    rest = await service.claim_due(later(10))
    assert [r.reminder_id for r in first] == ids[:2]
    assert [r.reminder_id for r in rest] == ids[2:]


async def test_two_concurrent_claimers_get_each_reminder_once(service: ReminderService) -> None:
    ids = [await remind(service, 1 + i / 100) for i in range(60)]
    await remind(service, 120)
    first, second = await asyncio.gather(service.claim_due(later(5)), service.claim_due(later(5)))
    returned = [r.reminder_id for r in [*first, *second]]
    assert sorted(returned) == sorted(ids)
    assert len(await service.pending()) == 1


async def test_claim_due_validates(service: ReminderService) -> None:
    with pytest.raises(ValidationError):
        await service.claim_due(datetime(2024, 1, 1))
    with pytest.raises(ValidationError):
        await service.claim_due(NOW, limit=0)
