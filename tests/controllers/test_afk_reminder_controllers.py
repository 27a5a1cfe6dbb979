"""``db.controller.afk`` and ``db.controller.reminder``: Tux's AFK and reminder controllers."""

from __future__ import annotations

import pytest

from tests.controllers.conftest import CHANNEL, GUILD, OTHER_GUILD, OTHER_USER, USER, in_days
from tux.database.controllers import DatabaseController
from tux.database.models import Reminder

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def test_get_afk_member(legacy: DatabaseController) -> None:
    assert await legacy.afk.get_afk_member(USER, guild_id=GUILD) is None
    await legacy.afk.set_afk(USER, "nick", "lunch", GUILD)
    entry = await legacy.afk.get_afk_member(USER, guild_id=GUILD)
    assert entry is not None
    assert (entry.nickname, entry.reason) == ("nick", "lunch")
    assert await legacy.afk.get_afk_member(USER, guild_id=OTHER_GUILD) is None


async def test_is_afk(legacy: DatabaseController) -> None:
    assert not await legacy.afk.is_afk(USER, guild_id=GUILD)
    await legacy.afk.set_afk(USER, "nick", "lunch", GUILD)
    assert await legacy.afk.is_afk(USER, guild_id=GUILD)


async def test_is_perm_afk(legacy: DatabaseController) -> None:
    await legacy.afk.set_afk(USER, "nick", "away", GUILD)
    assert not await legacy.afk.is_perm_afk(USER, guild_id=GUILD)
    await legacy.afk.set_afk(USER, "nick", "away", GUILD, True)
    assert await legacy.afk.is_perm_afk(USER, guild_id=GUILD)


async def test_set_afk(legacy: DatabaseController) -> None:
    until = in_days(1)
    entry = await legacy.afk.set_afk(USER, "nick", "exam", GUILD, False, until, True)
    assert (entry.until, entry.enforced, entry.perm_afk) == (until, True, False)
    replaced = await legacy.afk.set_afk(USER, "nick2", "forever", GUILD, is_perm=True)
    assert (replaced.nickname, replaced.until, replaced.perm_afk) == ("nick2", None, True)


async def test_remove_afk(legacy: DatabaseController) -> None:
    await legacy.afk.set_afk(USER, "a", "r", GUILD)
    await legacy.afk.set_afk(USER, "b", "r", OTHER_GUILD)
    await legacy.afk.set_afk(OTHER_USER, "c", "r", GUILD)
    removed = await legacy.afk.remove_afk(USER, GUILD)
    assert removed is not None
    assert removed.nickname == "a"
    assert await legacy.afk.remove_afk(USER, GUILD) is None
    assert await legacy.afk.is_afk(USER, guild_id=OTHER_GUILD)
    removed = await legacy.afk.remove_afk(USER)
    assert removed is not None
    assert removed.nickname == "b"
    assert not await legacy.afk.is_afk(USER, guild_id=OTHER_GUILD)
    assert await legacy.afk.is_afk(OTHER_USER, guild_id=GUILD)


async def test_count_afk_members(legacy: DatabaseController) -> None:
    await legacy.afk.set_afk(USER, "a", "r", GUILD)
    await legacy.afk.set_afk(OTHER_USER, "b", "r", GUILD)
    await legacy.afk.set_afk(USER, "c", "r", OTHER_GUILD)
    assert await legacy.afk.count_afk_members(GUILD) == 2


async def test_get_all_afk_members(legacy: DatabaseController) -> None:
    await legacy.afk.set_afk(OTHER_USER, "b", "r", GUILD)
    await legacy.afk.set_afk(USER, "a", "r", GUILD)
    await legacy.afk.set_afk(USER, "c", "r", OTHER_GUILD)
    assert [entry.nickname for entry in await legacy.afk.get_all_afk_members(GUILD)] == ["a", "b"]


async def remind(legacy: DatabaseController, text: str = "tea", days: float = 1, **who: int) -> Reminder:
    user, guild = who.get("user", USER), who.get("guild", GUILD)
    return await legacy.reminder.insert_reminder(user, text, in_days(days), CHANNEL, guild)


async def test_get_all_reminders(legacy: DatabaseController) -> None:
    await remind(legacy, "later", 2)
    await remind(legacy, "sooner", 1, guild=OTHER_GUILD)
    assert [row.reminder_content for row in await legacy.reminder.get_all_reminders()] == ["sooner", "later"]


async def test_get_reminder_by_id(legacy: DatabaseController) -> None:
    reminder = await remind(legacy)
    found = await legacy.reminder.get_reminder_by_id(reminder.reminder_id)
    assert found is not None
    assert found.reminder_content == "tea"
    assert await legacy.reminder.get_reminder_by_id(reminder.reminder_id + 1) is None


async def test_insert_reminder(legacy: DatabaseController) -> None:
    reminder = await remind(legacy)
    assert (reminder.reminder_user_id, reminder.guild_id, reminder.reminder_sent) == (USER, GUILD, False)
    assert reminder.reminder_channel_id == CHANNEL


async def test_delete_reminder_by_id(legacy: DatabaseController) -> None:
    reminder = await remind(legacy)
    deleted = await legacy.reminder.delete_reminder_by_id(reminder.reminder_id)
    assert deleted is not None
    assert deleted.reminder_id == reminder.reminder_id
    assert await legacy.reminder.delete_reminder_by_id(reminder.reminder_id) is None


async def test_update_reminder_by_id(legacy: DatabaseController) -> None:
    reminder = await remind(legacy)
    updated = await legacy.reminder.update_reminder_by_id(reminder.reminder_id, "coffee")
    assert updated is not None
    assert updated.reminder_content == "coffee"


async def test_update_reminder_status(legacy: DatabaseController) -> None:
    reminder = await remind(legacy)
    sent = await legacy.reminder.update_reminder_status(reminder.reminder_id)
    assert sent is not None
    assert sent.reminder_sent
    unsent = await legacy.reminder.update_reminder_status(reminder.reminder_id, False)
    assert unsent is not None
    assert not unsent.reminder_sent


async def test_get_reminders_by_user_id(legacy: DatabaseController) -> None:
    first = await remind(legacy, "a", 1)
    await remind(legacy, "b", 2)
    await remind(legacy, "c", 3)
    await remind(legacy, "other", 1, user=OTHER_USER)
    await legacy.reminder.update_reminder_status(first.reminder_id)
    unsent = await legacy.reminder.get_reminders_by_user_id(USER)
    assert [row.reminder_content for row in unsent] == ["b", "c"]
    every = await legacy.reminder.get_reminders_by_user_id(USER, include_sent=True, limit=2)
    assert [row.reminder_content for row in every] == ["a", "b"]


async def test_get_reminders_by_guild_id(legacy: DatabaseController) -> None:
    first = await remind(legacy, "a", 1)
    await remind(legacy, "b", 2, user=OTHER_USER)
    await remind(legacy, "elsewhere", 1, guild=OTHER_GUILD)
    await legacy.reminder.update_reminder_status(first.reminder_id)
    assert [row.reminder_content for row in await legacy.reminder.get_reminders_by_guild_id(GUILD)] == ["b"]
    every = await legacy.reminder.get_reminders_by_guild_id(GUILD, True)
    assert [row.reminder_content for row in every] == ["a", "b"]


async def test_count_reminders_by_guild_id(legacy: DatabaseController) -> None:
    first = await remind(legacy)
    await remind(legacy)
    await legacy.reminder.update_reminder_status(first.reminder_id)
    assert await legacy.reminder.count_reminders_by_guild_id(GUILD) == 1
    assert await legacy.reminder.count_reminders_by_guild_id(GUILD, include_sent=True) == 2


async def test_bulk_delete_reminders_by_guild_id(legacy: DatabaseController) -> None:
    await remind(legacy)
    await remind(legacy)
    await remind(legacy, guild=OTHER_GUILD)
    assert await legacy.reminder.bulk_delete_reminders_by_guild_id(GUILD) == 2
    assert [row.guild_id for row in await legacy.reminder.get_all_reminders()] == [OTHER_GUILD]


async def test_mark_reminders_as_sent(legacy: DatabaseController) -> None:
    first, second, third = [await remind(legacy) for _ in range(3)]
    marked = await legacy.reminder.mark_reminders_as_sent([first.reminder_id, second.reminder_id, 999_999])
    assert marked == 2
    assert [row.reminder_id for row in await legacy.reminder.get_reminders_by_guild_id(GUILD)] == [
        third.reminder_id
    ]
