"""The ``Database`` facade: one registry, every repository and service, lifecycle."""

from __future__ import annotations

from pathlib import Path

from tux.database import Database
from tux.database.migrations import runner
from tux.database.repositories.interfaces import ICaseRepository, ILevelsRepository

GUILD = 123_456_789_012_345_678
MEMBER = 223_456_789_012_345_678


async def test_facade_exposes_registry_repositories(db: Database) -> None:
    assert db.cases is db.registry.get_repository(ICaseRepository)
    assert db.levels is db.registry.get_repository(ILevelsRepository)
    for name in (
        "guilds",
        "guild_configs",
        "cases",
        "snippets",
        "levels",
        "afk",
        "reminders",
        "starboards",
        "starboard_messages",
        "permissions",
        "audit_log",
        "member_status",
        "moderation",
        "guild_setup",
    ):
        assert getattr(db, name) is not None


async def test_add_xp_creates_the_row_and_returns_the_new_total(db: Database) -> None:
    assert await db.levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=10) == 10
    assert await db.levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=2.5) == 12.5
    row = await db.levels.find_by_id((MEMBER, GUILD))
    assert row is not None
    assert row.xp == 12.5


async def test_async_with_migrates_a_fresh_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite3'}"
    async with Database(url) as db:
        assert db.client.is_connected
        await db.migrate()
        assert await runner.current(db.client.engine) == runner.head()
        await db.guild_setup.onboard(GUILD)
        assert await db.guild_configs.get_prefix(GUILD) == "$"
    assert not db.client.is_connected


def test_services_follow_one_naming_rule_and_keep_their_old_names(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'names.sqlite3'}")
    services = ("moderation", "snippet", "levels", "guild_setup", "afk", "reminder")
    assert all(hasattr(db, f"{name}_service") for name in services)
    assert db.moderation is db.moderation_service
    assert db.guild_setup is db.guild_setup_service
