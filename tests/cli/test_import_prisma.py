"""``tux-db import`` from a Prisma-era Tux database, into both backends."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select, text
from typer.testing import CliRunner

from tests.cli.import_support import (
    EARLIER,
    G1,
    G2,
    LATER,
    MOD,
    U1,
    U2,
    U3,
    U4,
    U5,
    by_table,
    import_into,
    source_database,
)
from tests.cli.tux_schemas import PRISMA_DDL
from tux.database import Database
from tux.database.cli.import_mapping import NO_REASON
from tux.database.cli.main import app
from tux.database.models import Case, CaseStatus, CaseType, MemberStatus

DATA = f"""
INSERT INTO "Guild" (guild_id, case_count) VALUES ({G1}, 5), ({G2}, 0);
INSERT INTO "GuildConfig" (guild_id, prefix, mod_log_id, perm_level_3_role_id) VALUES ({G1}, '!', 10, 99);
INSERT INTO "GuildConfig" (guild_id) VALUES ({G2});
INSERT INTO "Case" (case_id, case_type, case_reason, case_moderator_id, case_user_id, case_user_roles,
                    case_number, case_expires_at, case_tempban_expired, case_status, guild_id) VALUES
  (1, 'BAN', 'spam', {MOD}, {U1}, '{{}}', 1, NULL, false, true, {G1}),
  (2, 'JAIL', 'rude', {MOD}, {U2}, '{{7,8}}', 2, NULL, false, NULL, {G1}),
  (3, 'UNJAIL', 'ok', {MOD}, {U2}, '{{}}', 3, NULL, false, true, {G1}),
  (4, 'TEMPBAN', 't', {MOD}, {U3}, '{{}}', 4, {EARLIER}, true, true, {G1}),
  (5, 'UNTEMPBAN', 'u', {MOD}, {U4}, '{{}}', 5, NULL, false, true, {G1}),
  (6, 'WARN', 'no number', {MOD}, {U1}, '{{}}', NULL, NULL, false, true, {G1}),
  (7, 'SNIPPETBAN', '', {MOD}, {U5}, '{{}}', 6, NULL, false, false, {G1}),
  (10, 'JAIL', 'j', {MOD}, {U1}, '{{5}}', 1, NULL, false, true, {G2});
INSERT INTO "Snippet" (snippet_id, snippet_name, snippet_content, snippet_user_id, guild_id, uses, alias)
VALUES
  (1, 'Hello', 'Hello, world', {U1}, {G1}, 4, NULL),
  (2, 'hello', 'shadowed', {U2}, {G1}, 0, NULL),
  (3, 'hi', NULL, {U1}, {G1}, 0, 'Hello'),
  (5, 'Hello', 'other guild', {U1}, {G2}, 0, NULL);
INSERT INTO "Reminder" (reminder_id, reminder_content, reminder_expires_at, reminder_channel_id,
                        reminder_user_id, guild_id) VALUES (4, 'tea', {LATER}, 20, {U1}, {G1});
INSERT INTO "AFKModel" (member_id, nickname, reason, until, guild_id) VALUES
  ({U1}, 'one', 'lunch', NULL, {G1}), ({U2}, 'two', 'over', {EARLIER}, {G1});
INSERT INTO "Levels" (member_id, guild_id, xp, level, blacklisted) VALUES
  ({U1}, {G1}, 120.5, 1, false), ({U2}, {G1}, 0, 0, true);
INSERT INTO "Starboard" (guild_id, starboard_channel_id, starboard_emoji, starboard_threshold) VALUES
  ({G1}, 30, '⭐', 3);
INSERT INTO "StarboardMessage" (message_id, message_content, message_expires_at, message_channel_id,
                                message_user_id, message_guild_id, star_count, starboard_message_id) VALUES
  (1000, 'starred', {LATER}, 40, {U1}, {G1}, 5, 1001);
INSERT INTO "Note" (note_content, note_moderator_id, note_user_id, guild_id) VALUES ('n', {MOD}, {U1}, {G1});
"""

EXPECTED = {
    "guild": (2, 0, 2),
    "guild_config": (2, 0, 2),
    "cases": (8, 1, 7),
    "snippet": (4, 1, 3),
    "reminder": (1, 0, 1),
    "afk": (2, 1, 1),
    "levels": (2, 0, 2),
    "starboard": (1, 0, 1),
    "starboard_message": (1, 0, 1),
}


async def test_prisma_database_is_copied_mapped_and_verified(db: Database) -> None:
    async with source_database(PRISMA_DDL, DATA) as source:
        report, progress = await import_into(db, source)
    assert report.schema == "Prisma"
    assert by_table(report) == EXPECTED
    assert report.verified
    assert report.not_copied == {"Note": 1}
    assert all(task.completed == task.total for task in progress.tasks)
    assert len(progress.tasks) == len(EXPECTED)
    cases = {table.target: table for table in report.tables}["cases"].skipped
    assert cases == {"case without a case number": 1}

    tempban = await db.cases.find_by_id(4)
    assert tempban is not None
    assert (tempban.case_number, tempban.case_processed, tempban.case_type) == (4, True, CaseType.TEMPBAN)
    assert tempban.case_expires_at is not None
    assert tempban.case_expires_at.tzinfo is not None
    untempban = await db.cases.find_by_guild_and_number(G1, 5)
    assert untempban is not None
    assert untempban.case_type == CaseType.UNBAN
    voided = await db.cases.find_by_guild_and_number(G1, 6)
    assert voided is not None
    assert (voided.case_status, voided.case_reason) == (CaseStatus.VOIDED, NO_REASON)
    jail = await db.cases.find_by_id(2)
    assert jail is not None
    assert jail.case_user_roles == [7, 8]
    config = await db.guild_configs.find_by_id(G1)
    assert config is not None
    assert (config.prefix, config.mod_log_id) == ("!", 10)
    assert await db.guild_configs.get_prefix(G2) == "$"
    snippet = await db.snippets.resolve(G1, "HI")
    assert snippet is not None
    assert (snippet.snippet_id, snippet.uses) == (1, 4)
    levels = await db.levels.find_by_id((U1, G1))
    assert levels is not None
    assert levels.xp == 120.5


async def test_member_status_case_counters_and_ids_continue_after_the_import(db: Database) -> None:
    async with source_database(PRISMA_DDL, DATA) as source:
        report, _ = await import_into(db, source)
    assert report.members_rebuilt == 5
    assert await db.moderation.is_banned(G1, U1)
    assert not await db.moderation.is_jailed(G1, U2)
    assert not await db.moderation.is_banned(G1, U3)
    assert not await db.moderation.is_banned(G1, U4)
    assert not await db.moderation.is_snippet_banned(G1, U5)
    assert await db.moderation.is_jailed(G2, U1)
    assert await db.member_status.get_status(G1, U5) is None

    case = await db.moderation.warn_user(G1, U1, "after the import", MOD)
    assert case.case_number == 7
    assert case.id > 10
    assert (await db.moderation.warn_user(G2, U1, "x", MOD)).case_number == 2
    snippet = await db.snippet_service.create(G1, "new", "content", U1)
    assert snippet.snippet_id > 5
    reminder = await db.reminders.create(
        {
            "guild_id": G1,
            "reminder_user_id": U1,
            "reminder_channel_id": 20,
            "reminder_content": "x",
            "reminder_expires_at": case.case_created_at,
        }
    )
    assert reminder.reminder_id > 4


async def test_running_the_import_again_changes_nothing(db: Database) -> None:
    async with source_database(PRISMA_DDL, DATA) as source:
        await import_into(db, source)
        await db.cases.update(1, {"case_reason": "edited by the bot since"})
        again, _ = await import_into(db, source, batch_size=1000)
    assert again.verified
    assert by_table(again) == EXPECTED
    async with db.client.engine.connect() as connection:
        assert (await connection.execute(select(func.count()).select_from(Case))).scalar_one() == 7
        statuses = select(func.count()).select_from(MemberStatus)
        assert (await connection.execute(statuses)).scalar_one() == 5
        guilds = await connection.execute(text("SELECT id, case_count FROM guild ORDER BY id"))
        assert [tuple(row) for row in guilds] == [(G1, 6), (G2, 1)]
    case = await db.cases.find_by_id(1)
    assert case is not None
    assert case.case_reason == "edited by the bot since"


def test_the_cli_prints_the_summary_and_exits_zero(tmp_path: Path) -> None:
    target = f"sqlite+aiosqlite:///{tmp_path / 'imported.sqlite3'}"

    async def run() -> str:
        async with source_database(PRISMA_DDL, DATA) as source:
            return await asyncio.to_thread(invoke, source)

    def invoke(source: str) -> str:
        result = CliRunner().invoke(app, ["import", source, "--database-url", target], env={"COLUMNS": "200"})
        assert result.exit_code == 0, result.output
        return result.output

    output = asyncio.run(run())
    assert "Prisma-era schema" in output
    assert "1 case without a case number" in output
    assert "7/7" in output
    assert "MISSING" not in output
    assert "member status rebuilt for 5 member(s)" in output
    assert "Note (1 rows)" in output
