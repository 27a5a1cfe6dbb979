"""``db.controller.snippet``, ``.starboard`` and ``.starboard_message``: Tux's controllers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.controllers.conftest import CHANNEL, GUILD, OTHER_GUILD, OTHER_USER, USER, in_days
from tux.database.controllers import DatabaseController
from tux.database.models import Snippet, StarboardMessage

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CREATED = datetime(2026, 1, 1, tzinfo=UTC)
MESSAGE = 666_666_666_666_666_666
POST = 777_777_777_777_777_777


async def snippet(
    legacy: DatabaseController, name: str = "hello", guild: int = GUILD, days: int = 0
) -> Snippet:
    return await legacy.snippet.create_snippet(name, f"{name}!", CREATED + timedelta(days=days), USER, guild)


async def test_get_all_snippets(legacy: DatabaseController) -> None:
    await snippet(legacy, "a")
    await snippet(legacy, "b", OTHER_GUILD)
    assert [row.snippet_name for row in await legacy.snippet.get_all_snippets()] == ["a", "b"]


async def test_get_all_snippets_by_guild_id(legacy: DatabaseController) -> None:
    await snippet(legacy, "a")
    await snippet(legacy, "b", OTHER_GUILD)
    rows = await legacy.snippet.get_all_snippets_by_guild_id(GUILD, include_guild=True)
    assert [row.snippet_name for row in rows] == ["a"]


async def test_get_all_snippets_sorted(legacy: DatabaseController) -> None:
    for day, name in enumerate(("old", "mid", "new")):
        await snippet(legacy, name, days=day)
    newest = await legacy.snippet.get_all_snippets_sorted(limit=2)
    assert [row.snippet_name for row in newest] == ["new", "mid"]
    oldest = await legacy.snippet.get_all_snippets_sorted(newestfirst=False)
    assert [row.snippet_name for row in oldest] == ["old", "mid", "new"]


async def test_get_snippet_by_name_and_guild_id(legacy: DatabaseController) -> None:
    await snippet(legacy, "Hello")
    found = await legacy.snippet.get_snippet_by_name_and_guild_id("hELLO", GUILD)
    assert found is not None
    assert found.snippet_name == "Hello"
    assert await legacy.snippet.get_snippet_by_name_and_guild_id("hello", OTHER_GUILD) is None


async def test_create_snippet(legacy: DatabaseController) -> None:
    row = await snippet(legacy)
    assert (row.snippet_content, row.snippet_created_at, row.uses, row.locked) == (
        "hello!",
        CREATED,
        0,
        False,
    )


async def test_get_snippet_by_id(legacy: DatabaseController) -> None:
    row = await snippet(legacy)
    found = await legacy.snippet.get_snippet_by_id(row.snippet_id)
    assert found is not None
    assert found.snippet_name == "hello"
    assert await legacy.snippet.get_snippet_by_id(row.snippet_id + 1) is None


async def test_delete_snippet_by_id(legacy: DatabaseController) -> None:
    row = await snippet(legacy)
    deleted = await legacy.snippet.delete_snippet_by_id(row.snippet_id)
    assert deleted is not None
    assert deleted.snippet_name == "hello"
    assert await legacy.snippet.delete_snippet_by_id(row.snippet_id) is None


async def test_create_snippet_alias(legacy: DatabaseController) -> None:
    await snippet(legacy, "target")
    alias = await legacy.snippet.create_snippet_alias("short", "target", CREATED, OTHER_USER, GUILD)
    assert (alias.snippet_name, alias.alias, alias.snippet_content) == ("short", "target", None)


async def test_get_all_aliases(legacy: DatabaseController) -> None:
    await snippet(legacy, "target")
    for name in ("b", "a"):
        await legacy.snippet.create_snippet_alias(name, "target", CREATED, USER, GUILD)
    assert [row.snippet_name for row in await legacy.snippet.get_all_aliases("TARGET", GUILD)] == ["a", "b"]


async def test_update_snippet_by_id(legacy: DatabaseController) -> None:
    row = await snippet(legacy)
    updated = await legacy.snippet.update_snippet_by_id(row.snippet_id, "new content")
    assert updated is not None
    assert updated.snippet_content == "new content"


async def test_increment_snippet_uses(legacy: DatabaseController) -> None:
    row = await snippet(legacy, "target")
    alias = await legacy.snippet.create_snippet_alias("short", "target", CREATED, USER, GUILD)
    for expected in (1, 2):
        used = await legacy.snippet.increment_snippet_uses(row.snippet_id)
        assert used is not None
        assert used.uses == expected
    used_alias = await legacy.snippet.increment_snippet_uses(alias.snippet_id)
    assert used_alias is not None
    assert (used_alias.snippet_name, used_alias.uses) == ("short", 1)
    assert await legacy.snippet.increment_snippet_uses(999_999) is None


async def test_lock_and_unlock_snippet_by_id(legacy: DatabaseController) -> None:
    row = await snippet(legacy)
    locked = await legacy.snippet.lock_snippet_by_id(row.snippet_id)
    assert locked is not None
    assert locked.locked
    unlocked = await legacy.snippet.unlock_snippet_by_id(row.snippet_id)
    assert unlocked is not None
    assert not unlocked.locked


async def test_toggle_snippet_lock_by_id(legacy: DatabaseController) -> None:
    row = await snippet(legacy)
    for expected in (True, False):
        toggled = await legacy.snippet.toggle_snippet_lock_by_id(row.snippet_id)
        assert toggled is not None
        assert toggled.locked is expected
    assert await legacy.snippet.toggle_snippet_lock_by_id(999_999) is None


async def test_count_snippets_by_guild_id(legacy: DatabaseController) -> None:
    await snippet(legacy, "a")
    await snippet(legacy, "b")
    await snippet(legacy, "c", OTHER_GUILD)
    assert await legacy.snippet.count_snippets_by_guild_id(GUILD) == 2


async def test_bulk_delete_snippets_by_guild_id(legacy: DatabaseController) -> None:
    await snippet(legacy, "a")
    await snippet(legacy, "b")
    await snippet(legacy, "c", OTHER_GUILD)
    assert await legacy.snippet.bulk_delete_snippets_by_guild_id(GUILD) == 2
    assert [row.snippet_name for row in await legacy.snippet.get_all_snippets()] == ["c"]


async def test_get_all_starboards(legacy: DatabaseController) -> None:
    await legacy.starboard.create_or_update_starboard(OTHER_GUILD, CHANNEL, "⭐", 3)
    await legacy.starboard.create_or_update_starboard(GUILD, CHANNEL, "⭐", 3)
    assert [row.guild_id for row in await legacy.starboard.get_all_starboards()] == [GUILD, OTHER_GUILD]


async def test_get_starboard_by_guild_id(legacy: DatabaseController) -> None:
    assert await legacy.starboard.get_starboard_by_guild_id(GUILD) is None
    await legacy.starboard.create_or_update_starboard(GUILD, CHANNEL, "⭐", 3)
    board = await legacy.starboard.get_starboard_by_guild_id(GUILD)
    assert board is not None
    assert board.starboard_threshold == 3


async def test_create_or_update_starboard(legacy: DatabaseController) -> None:
    await legacy.starboard.create_or_update_starboard(GUILD, CHANNEL, "⭐", 3)
    board = await legacy.starboard.create_or_update_starboard(GUILD, CHANNEL + 1, "🌟", 5)
    assert (board.starboard_channel_id, board.starboard_emoji, board.starboard_threshold) == (
        CHANNEL + 1,
        "🌟",
        5,
    )


async def test_delete_starboard_by_guild_id(legacy: DatabaseController) -> None:
    await legacy.starboard.create_or_update_starboard(GUILD, CHANNEL, "⭐", 3)
    deleted = await legacy.starboard.delete_starboard_by_guild_id(GUILD)
    assert deleted is not None
    assert deleted.starboard_emoji == "⭐"
    assert await legacy.starboard.get_starboard_by_guild_id(GUILD) is None
    assert await legacy.starboard.delete_starboard_by_guild_id(GUILD) is None


async def test_count_starboards(legacy: DatabaseController) -> None:
    assert await legacy.starboard.count_starboards() == 0
    await legacy.starboard.create_or_update_starboard(GUILD, CHANNEL, "⭐", 3)
    assert await legacy.starboard.count_starboards() == 1


async def starred(
    legacy: DatabaseController, offset: int = 0, stars: int = 1, guild: int = GUILD, user: int = USER
) -> StarboardMessage:
    return await legacy.starboard_message.create_or_update_starboard_message(
        MESSAGE + offset, f"text {offset}", in_days(offset + 1), CHANNEL, user, guild, stars, POST + offset
    )


async def test_get_starboard_message(legacy: DatabaseController) -> None:
    await starred(legacy)
    found = await legacy.starboard_message.get_starboard_message(MESSAGE, GUILD)
    assert found is not None
    assert found.starboard_message_id == POST
    assert await legacy.starboard_message.get_starboard_message(MESSAGE, OTHER_GUILD) is None


async def test_create_or_update_starboard_message(legacy: DatabaseController) -> None:
    created = await starred(legacy, stars=2)
    assert (created.star_count, created.message_content) == (2, "text 0")
    updated = await legacy.starboard_message.create_or_update_starboard_message(
        MESSAGE, "edited", in_days(3), CHANNEL, USER, GUILD, 7, POST
    )
    assert (updated.star_count, updated.message_content) == (7, "edited")
    assert await legacy.starboard_message.count_starboard_messages(GUILD) == 1


async def test_delete_starboard_message(legacy: DatabaseController) -> None:
    await starred(legacy)
    assert await legacy.starboard_message.delete_starboard_message(MESSAGE, OTHER_GUILD) is None
    deleted = await legacy.starboard_message.delete_starboard_message(MESSAGE, GUILD)
    assert deleted is not None
    assert deleted.message_id == MESSAGE
    assert await legacy.starboard_message.get_starboard_message(MESSAGE, GUILD) is None


async def test_get_all_starboard_messages(legacy: DatabaseController) -> None:
    await starred(legacy, 0, stars=5)
    await starred(legacy, 1, stars=1)
    await starred(legacy, 2, guild=OTHER_GUILD)
    latest = await legacy.starboard_message.get_all_starboard_messages(GUILD)
    assert [row.message_id for row in latest] == [MESSAGE + 1, MESSAGE]
    by_stars = await legacy.starboard_message.get_all_starboard_messages(GUILD, 1, order_by_stars=True)
    assert [row.message_id for row in by_stars] == [MESSAGE]


async def test_update_star_count(legacy: DatabaseController) -> None:
    await starred(legacy)
    updated = await legacy.starboard_message.update_star_count(MESSAGE, GUILD, 9)
    assert updated is not None
    assert updated.star_count == 9
    assert await legacy.starboard_message.update_star_count(MESSAGE, OTHER_GUILD, 1) is None


async def test_get_starboard_message_by_id(legacy: DatabaseController) -> None:
    await starred(legacy)
    found = await legacy.starboard_message.get_starboard_message_by_id(MESSAGE, GUILD)
    assert found is not None
    assert found.message_content == "text 0"
    assert await legacy.starboard_message.get_starboard_message_by_id(MESSAGE + 1, GUILD) is None


async def test_increment_star_count(legacy: DatabaseController) -> None:
    await starred(legacy, stars=1)
    incremented = await legacy.starboard_message.increment_star_count(MESSAGE, GUILD)
    assert incremented is not None
    assert incremented.star_count == 2
    assert await legacy.starboard_message.increment_star_count(MESSAGE, OTHER_GUILD) is None


async def test_get_top_starred_messages(legacy: DatabaseController) -> None:
    for offset, stars in enumerate((3, 9, 5)):
        await starred(legacy, offset, stars)
    top = await legacy.starboard_message.get_top_starred_messages(GUILD, limit=2)
    assert [row.star_count for row in top] == [9, 5]


async def test_count_starboard_messages(legacy: DatabaseController) -> None:
    await starred(legacy, 0)
    await starred(legacy, 1)
    await starred(legacy, 2, guild=OTHER_GUILD)
    assert await legacy.starboard_message.count_starboard_messages(GUILD) == 2


async def test_bulk_delete_messages_by_guild_id(legacy: DatabaseController) -> None:
    await starred(legacy, 0)
    await starred(legacy, 1)
    await starred(legacy, 2, guild=OTHER_GUILD)
    assert await legacy.starboard_message.bulk_delete_messages_by_guild_id(GUILD) == 2
    assert await legacy.starboard_message.count_starboard_messages(OTHER_GUILD) == 1


async def test_get_messages_for_user(legacy: DatabaseController) -> None:
    await starred(legacy, 0, stars=1)
    await starred(legacy, 1, stars=4, guild=OTHER_GUILD)
    await starred(legacy, 2, user=OTHER_USER)
    everywhere = await legacy.starboard_message.get_messages_for_user(USER)
    assert [row.star_count for row in everywhere] == [4, 1]
    here = await legacy.starboard_message.get_messages_for_user(USER, GUILD, limit=5)
    assert [row.message_id for row in here] == [MESSAGE]
