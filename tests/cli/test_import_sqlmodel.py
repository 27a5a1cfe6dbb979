"""``tux-db import`` from a SQLModel-era Tux database, into both backends."""

from __future__ import annotations

from tests.cli.import_support import EARLIER, G1, LATER, MOD, U1, U2, by_table, import_into, source_database
from tests.cli.tux_schemas import SQLMODEL_DDL
from tux.database import Database
from tux.database.models import CaseStatus, CaseType, OnboardingStage

DATA = f"""
INSERT INTO guild (id, case_count, guild_joined_at) VALUES ({G1}, 3, '2024-05-01 12:00:00');
INSERT INTO guild_config (id, prefix, jail_role_id, onboarding_completed, onboarding_stage)
VALUES ({G1}, '?', 77, true, 'configured');
INSERT INTO cases (id, case_status, case_processed, case_type, case_reason, case_moderator_id, case_user_id,
                   case_user_roles, case_number, case_expires_at, case_metadata, mod_log_message_id, guild_id,
                   created_at) VALUES
  (1, true, false, 'JAIL', 'rude', {MOD}, {U1}, '[7, 8]', 1, NULL, NULL, 555, {G1}, '2024-06-01 10:00:00'),
  (2, true, false, NULL, 'typeless', {MOD}, {U1}, '[]', 2, NULL, NULL, NULL, {G1}, '2024-06-02 10:00:00'),
  (3, false, false, 'POLLBAN', 'mistake', {MOD}, {U2}, '[]', 3, NULL, '{{"source": "web"}}', NULL, {G1},
   '2024-06-03 10:00:00');
INSERT INTO snippet (id, snippet_name, snippet_content, snippet_user_id, guild_id, uses, locked, alias,
                     created_at)
VALUES (9, 'rules', 'Be nice', {U1}, {G1}, 2, true, NULL, '2024-01-01 00:00:00');
INSERT INTO reminder (id, reminder_content, reminder_expires_at, reminder_channel_id, reminder_user_id,
                      reminder_sent, guild_id) VALUES (6, 'stretch', {LATER}, 20, {U1}, false, {G1});
INSERT INTO afk (member_id, guild_id, nickname, reason, since, until, enforced, perm_afk) VALUES
  ({U1}, {G1}, 'one', 'away', {EARLIER}, NULL, false, true);
INSERT INTO levels (member_id, guild_id, xp, level, blacklisted, last_message) VALUES
  ({U1}, {G1}, 50, 1, false, {EARLIER});
INSERT INTO starboard (id, starboard_channel_id, starboard_emoji, starboard_threshold)
VALUES ({G1}, 30, '⭐', 2);
INSERT INTO starboard_message (id, message_content, message_expires_at, message_channel_id, message_user_id,
                               message_guild_id, star_count, starboard_message_id, created_at)
VALUES (1000, 'starred', {LATER}, 40, {U1}, {G1}, 3, 1001, '2024-02-02 02:02:02');
INSERT INTO permission_ranks (id, guild_id, rank, name, description) VALUES (4, {G1}, 3, 'Moderator', NULL);
INSERT INTO permission_assignments (id, guild_id, permission_rank_id, role_id) VALUES (5, {G1}, 4, 88);
INSERT INTO permission_commands (id, guild_id, command_name, required_rank, description)
VALUES (6, {G1}, 'ban', 3, 'bans');
"""


async def test_sqlmodel_database_is_copied_mapped_and_verified(db: Database) -> None:
    async with source_database(SQLMODEL_DDL, DATA) as source:
        report, progress = await import_into(db, source)
    assert report.schema == "SQLModel"
    assert report.verified
    assert report.not_copied == {}
    assert by_table(report) == {
        "guild": (1, 0, 1),
        "guild_config": (1, 0, 1),
        "cases": (3, 1, 2),
        "snippet": (1, 0, 1),
        "reminder": (1, 0, 1),
        "afk": (1, 0, 1),
        "levels": (1, 0, 1),
        "starboard": (1, 0, 1),
        "starboard_message": (1, 0, 1),
        "permission_ranks": (1, 0, 1),
        "permission_assignments": (1, 0, 1),
        "permission_commands": (1, 0, 1),
    }
    assert all(task.completed == task.total for task in progress.tasks)

    config = await db.guild_configs.find_by_id(G1)
    assert config is not None
    assert (config.prefix, config.jail_role_id, config.onboarding_stage) == (
        "?",
        77,
        OnboardingStage.COMPLETED,
    )
    jail = await db.cases.find_by_id(1)
    assert jail is not None
    assert (jail.case_type, jail.case_user_roles, jail.mod_log_message_id) == (CaseType.JAIL, [7, 8], 555)
    assert jail.case_created_at.isoformat() == "2024-06-01T10:00:00+00:00"
    voided = await db.cases.find_by_id(3)
    assert voided is not None
    assert (voided.case_status, voided.case_metadata) == (CaseStatus.VOIDED, {"source": "web"})
    snippet = await db.snippets.find_by_id(9)
    assert snippet is not None
    assert (snippet.snippet_name, snippet.locked, snippet.uses) == ("rules", True, 2)
    assert snippet.snippet_created_at.year == 2024
    reminder = await db.reminders.find_by_id(6)
    assert reminder is not None
    assert reminder.reminder_content == "stretch"
    board = await db.starboards.find_by_id(G1)
    assert board is not None
    assert board.starboard_threshold == 2
    message = await db.starboard_messages.find_by_id(1000)
    assert message is not None
    assert message.message_created_at.isoformat() == "2024-02-02T02:02:02+00:00"
    assert await db.permissions.member_rank(G1, [88]) == 3
    assert await db.permissions.command_rank(G1, "ban") == 3

    assert report.members_rebuilt == 1
    assert await db.moderation.is_jailed(G1, U1)
    assert not await db.moderation.is_poll_banned(G1, U2)
    assert (await db.moderation.warn_user(G1, U2, "next", MOD)).case_number == 4
    rank = await db.permissions.ensure_ranks(G1, [{"rank": 5, "name": "Admin"}])
    assert rank == 1
    assert max(row.id for row in await db.permissions.ranks_of_guild(G1)) > 4
