"""Initial schema: the Tux tables, with every limit also enforced as a named CHECK.

Written by hand from an autogenerate draft and kept independent of the model code: column types are
spelled out (``DateTime(timezone=True)`` is what ``UTCDateTime`` stores), enums are ``VARCHAR`` plus an
explicit CHECK, partial-index predicates are given per dialect, and ``cache_entry`` is UNLOGGED on
PostgreSQL only. ``tests/migrations`` checks that this yields the same schema as the models.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SNOWFLAKE = sa.BigInteger()
TIMESTAMP = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

CASE_TYPES = (
    "BAN",
    "UNBAN",
    "HACKBAN",
    "TEMPBAN",
    "KICK",
    "SNIPPETBAN",
    "SNIPPETUNBAN",
    "TIMEOUT",
    "UNTIMEOUT",
    "WARN",
    "JAIL",
    "UNJAIL",
    "POLLBAN",
    "POLLUNBAN",
)
CASE_STATUSES = ("ACTIVE", "VOIDED")
ONBOARDING_STAGES = ("NOT_STARTED", "INITIALIZED", "CONFIGURED", "COMPLETED")


def _one_of(column: str, values: Sequence[str], name: str) -> sa.CheckConstraint:
    listed = ", ".join(f"'{value}'" for value in values)
    return sa.CheckConstraint(f"{column} IN ({listed})", name=op.f(name))


def _check(condition: str, name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(condition, name=op.f(name))


def _guild_fk(table: str, column: str = "guild_id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["guild.id"], name=op.f(f"fk_{table}_{column}_guild"), ondelete="CASCADE"
    )


def upgrade() -> None:
    postgres = op.get_context().dialect.name == "postgresql"

    op.create_table(
        "cache_entry",
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("expires_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_cache_entry")),
        _check("length(key) BETWEEN 1 AND 512", "ck_cache_entry_key_length"),
        prefixes=["UNLOGGED"] if postgres else [],
    )
    op.create_index(op.f("ix_cache_entry_expires_at"), "cache_entry", ["expires_at"])

    op.create_table(
        "guild",
        sa.Column("id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("guild_joined_at", TIMESTAMP, nullable=False),
        sa.Column("case_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guild")),
        _check("id > 0", "ck_guild_id_positive"),
        _check("case_count >= 0", "ck_guild_case_count_non_negative"),
    )

    op.create_table(
        "guild_config",
        sa.Column("id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("prefix", sa.String(10), nullable=False),
        sa.Column("mod_log_id", SNOWFLAKE, nullable=True),
        sa.Column("audit_log_id", SNOWFLAKE, nullable=True),
        sa.Column("join_log_id", SNOWFLAKE, nullable=True),
        sa.Column("private_log_id", SNOWFLAKE, nullable=True),
        sa.Column("report_log_id", SNOWFLAKE, nullable=True),
        sa.Column("dev_log_id", SNOWFLAKE, nullable=True),
        sa.Column("jail_channel_id", SNOWFLAKE, nullable=True),
        sa.Column("jail_role_id", SNOWFLAKE, nullable=True),
        sa.Column("onboarding_stage", sa.String(32), nullable=False),
        sa.Column("onboarding_completed_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guild_config")),
        _guild_fk("guild_config", "id"),
        _check("id > 0", "ck_guild_config_id_positive"),
        _check("length(prefix) BETWEEN 1 AND 10", "ck_guild_config_prefix_length"),
        _check("mod_log_id > 0", "ck_guild_config_mod_log_id_positive"),
        _check("audit_log_id > 0", "ck_guild_config_audit_log_id_positive"),
        _check("join_log_id > 0", "ck_guild_config_join_log_id_positive"),
        _check("private_log_id > 0", "ck_guild_config_private_log_id_positive"),
        _check("report_log_id > 0", "ck_guild_config_report_log_id_positive"),
        _check("dev_log_id > 0", "ck_guild_config_dev_log_id_positive"),
        _check("jail_channel_id > 0", "ck_guild_config_jail_channel_id_positive"),
        _check("jail_role_id > 0", "ck_guild_config_jail_role_id_positive"),
        _one_of("onboarding_stage", ONBOARDING_STAGES, "ck_guild_config_onboarding_stage"),
    )

    op.create_table(
        "cases",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("case_number", sa.Integer(), nullable=False),
        sa.Column("case_type", sa.String(32), nullable=False),
        sa.Column("case_reason", sa.String(2000), nullable=False),
        sa.Column("case_moderator_id", SNOWFLAKE, nullable=False),
        sa.Column("case_user_id", SNOWFLAKE, nullable=False),
        sa.Column("case_user_roles", JSON, nullable=False),
        sa.Column("case_created_at", TIMESTAMP, nullable=False),
        sa.Column("case_expires_at", TIMESTAMP, nullable=True),
        sa.Column("case_processed", sa.Boolean(), nullable=False),
        sa.Column("case_status", sa.String(16), nullable=False),
        sa.Column("case_void_reason", sa.String(2000), nullable=True),
        sa.Column("case_voided_at", TIMESTAMP, nullable=True),
        sa.Column("case_metadata", JSON, nullable=False),
        sa.Column("mod_log_message_id", SNOWFLAKE, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("guild_id", "case_number", name=op.f("uq_cases_guild_id_case_number")),
        _guild_fk("cases"),
        _check("case_number > 0", "ck_cases_case_number_positive"),
        _check("case_moderator_id > 0", "ck_cases_case_moderator_id_positive"),
        _check("case_user_id > 0", "ck_cases_case_user_id_positive"),
        _check("mod_log_message_id > 0", "ck_cases_mod_log_message_id_positive"),
        _check("length(case_reason) BETWEEN 1 AND 2000", "ck_cases_case_reason_length"),
        _check("length(case_void_reason) BETWEEN 1 AND 2000", "ck_cases_case_void_reason_length"),
        _one_of("case_type", CASE_TYPES, "ck_cases_case_type"),
        _one_of("case_status", CASE_STATUSES, "ck_cases_case_status"),
    )
    op.create_index(
        op.f("ix_cases_guild_id_case_user_id_case_number"),
        "cases",
        ["guild_id", "case_user_id", "case_number"],
    )
    op.create_index(
        op.f("ix_cases_guild_id_case_user_id_case_type_case_number"),
        "cases",
        ["guild_id", "case_user_id", "case_type", "case_number"],
    )
    op.create_index(
        op.f("ix_cases_tempban_pending"),
        "cases",
        ["case_expires_at"],
        postgresql_where=sa.text("case_type = 'TEMPBAN' AND NOT case_processed"),
        sqlite_where=sa.text("case_type = 'TEMPBAN' AND case_processed = 0"),
    )

    op.create_table(
        "snippet",
        sa.Column("snippet_id", ID, autoincrement=True, nullable=False),
        sa.Column("snippet_name", sa.String(100), nullable=False),
        sa.Column("snippet_content", sa.String(4000), nullable=True),
        sa.Column("snippet_user_id", SNOWFLAKE, nullable=False),
        sa.Column("snippet_created_at", TIMESTAMP, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("uses", sa.Integer(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("alias", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("snippet_id", name=op.f("pk_snippet")),
        _guild_fk("snippet"),
        _check("snippet_content IS NOT NULL OR alias IS NOT NULL", "ck_snippet_content_or_alias"),
        _check("length(snippet_name) BETWEEN 1 AND 100", "ck_snippet_snippet_name_length"),
        _check("length(snippet_content) BETWEEN 1 AND 4000", "ck_snippet_snippet_content_length"),
        _check("length(alias) BETWEEN 1 AND 100", "ck_snippet_alias_length"),
        _check("snippet_user_id > 0", "ck_snippet_snippet_user_id_positive"),
        _check("uses >= 0", "ck_snippet_uses_non_negative"),
    )
    op.create_index(
        op.f("uq_snippet_guild_id_lower_snippet_name"),
        "snippet",
        ["guild_id", sa.text("lower(snippet_name)")],
        unique=True,
    )

    op.create_table(
        "reminder",
        sa.Column("reminder_id", ID, autoincrement=True, nullable=False),
        sa.Column("reminder_content", sa.String(2000), nullable=False),
        sa.Column("reminder_created_at", TIMESTAMP, nullable=False),
        sa.Column("reminder_expires_at", TIMESTAMP, nullable=False),
        sa.Column("reminder_channel_id", SNOWFLAKE, nullable=False),
        sa.Column("reminder_user_id", SNOWFLAKE, nullable=False),
        sa.Column("reminder_sent", sa.Boolean(), nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.PrimaryKeyConstraint("reminder_id", name=op.f("pk_reminder")),
        _guild_fk("reminder"),
        _check("length(reminder_content) BETWEEN 1 AND 2000", "ck_reminder_reminder_content_length"),
        _check("reminder_channel_id > 0", "ck_reminder_reminder_channel_id_positive"),
        _check("reminder_user_id > 0", "ck_reminder_reminder_user_id_positive"),
    )
    op.create_index(
        op.f("ix_reminder_pending"),
        "reminder",
        ["reminder_expires_at"],
        postgresql_where=sa.text("NOT reminder_sent"),
        sqlite_where=sa.text("reminder_sent = 0"),
    )
    op.create_index(op.f("ix_reminder_guild_id"), "reminder", ["guild_id"])

    op.create_table(
        "afk",
        sa.Column("guild_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("member_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("nickname", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("since", TIMESTAMP, nullable=False),
        sa.Column("until", TIMESTAMP, nullable=True),
        sa.Column("enforced", sa.Boolean(), nullable=False),
        sa.Column("perm_afk", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "member_id", name=op.f("pk_afk")),
        _guild_fk("afk"),
        _check("member_id > 0", "ck_afk_member_id_positive"),
        _check("length(nickname) <= 100", "ck_afk_nickname_length"),
        _check("length(reason) <= 500", "ck_afk_reason_length"),
        _check("until IS NULL OR until > since", "ck_afk_until_after_since"),
    )
    op.create_index(
        op.f("ix_afk_until"),
        "afk",
        ["until"],
        postgresql_where=sa.text("until IS NOT NULL"),
        sqlite_where=sa.text("until IS NOT NULL"),
    )

    op.create_table(
        "levels",
        sa.Column("guild_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("member_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("xp", sa.Float(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("blacklisted", sa.Boolean(), nullable=False),
        sa.Column("last_message", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("guild_id", "member_id", name=op.f("pk_levels")),
        _guild_fk("levels"),
        _check("member_id > 0", "ck_levels_member_id_positive"),
        _check("xp >= 0", "ck_levels_xp_non_negative"),
        _check("level >= 0", "ck_levels_level_non_negative"),
    )
    op.create_index(
        op.f("ix_levels_leaderboard"),
        "levels",
        ["guild_id", "xp"],
        postgresql_where=sa.text("NOT blacklisted"),
        sqlite_where=sa.text("blacklisted = 0"),
    )

    op.create_table(
        "levels_config",
        sa.Column("guild_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("xp_cooldown_seconds", sa.Integer(), nullable=False),
        sa.Column("base_xp", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_levels_config")),
        _guild_fk("levels_config"),
        _check("xp_cooldown_seconds >= 0", "ck_levels_config_xp_cooldown_seconds_non_negative"),
        _check("base_xp > 0", "ck_levels_config_base_xp_positive"),
    )

    op.create_table(
        "levels_role_reward",
        sa.Column("guild_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("role_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "level", "role_id", name=op.f("pk_levels_role_reward")),
        _guild_fk("levels_role_reward"),
        _check("level > 0", "ck_levels_role_reward_level_positive"),
        _check("role_id > 0", "ck_levels_role_reward_role_id_positive"),
    )

    op.create_table(
        "levels_role_multiplier",
        sa.Column("guild_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("role_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("multiplier", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "role_id", name=op.f("pk_levels_role_multiplier")),
        _guild_fk("levels_role_multiplier"),
        _check("role_id > 0", "ck_levels_role_multiplier_role_id_positive"),
        _check("multiplier > 0", "ck_levels_role_multiplier_multiplier_positive"),
    )

    op.create_table(
        "levels_channel_blacklist",
        sa.Column("guild_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("channel_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "channel_id", name=op.f("pk_levels_channel_blacklist")),
        _guild_fk("levels_channel_blacklist"),
        _check("channel_id > 0", "ck_levels_channel_blacklist_channel_id_positive"),
    )

    op.create_table(
        "starboard",
        sa.Column("guild_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("starboard_channel_id", SNOWFLAKE, nullable=False),
        sa.Column("starboard_emoji", sa.String(64), nullable=False),
        sa.Column("starboard_threshold", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("guild_id", name=op.f("pk_starboard")),
        _guild_fk("starboard"),
        _check("starboard_channel_id > 0", "ck_starboard_starboard_channel_id_positive"),
        _check("length(starboard_emoji) BETWEEN 1 AND 64", "ck_starboard_starboard_emoji_length"),
        _check("starboard_threshold > 0", "ck_starboard_starboard_threshold_positive"),
    )

    op.create_table(
        "starboard_message",
        sa.Column("message_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("message_content", sa.String(4000), nullable=False),
        sa.Column("message_created_at", TIMESTAMP, nullable=False),
        sa.Column("message_expires_at", TIMESTAMP, nullable=True),
        sa.Column("message_channel_id", SNOWFLAKE, nullable=False),
        sa.Column("message_user_id", SNOWFLAKE, nullable=False),
        sa.Column("message_guild_id", SNOWFLAKE, nullable=False),
        sa.Column("star_count", sa.Integer(), nullable=False),
        sa.Column("starboard_message_id", SNOWFLAKE, nullable=False),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_starboard_message")),
        _guild_fk("starboard_message", "message_guild_id"),
        _check("message_id > 0", "ck_starboard_message_message_id_positive"),
        _check("message_channel_id > 0", "ck_starboard_message_message_channel_id_positive"),
        _check("message_user_id > 0", "ck_starboard_message_message_user_id_positive"),
        _check("starboard_message_id > 0", "ck_starboard_message_starboard_message_id_positive"),
        _check("length(message_content) <= 4000", "ck_starboard_message_message_content_length"),
        _check("star_count >= 0", "ck_starboard_message_star_count_non_negative"),
    )
    op.create_index(
        op.f("ix_starboard_message_message_guild_id_star_count"),
        "starboard_message",
        ["message_guild_id", "star_count"],
    )
    op.create_index(
        op.f("ix_starboard_message_starboard_post"),
        "starboard_message",
        ["message_guild_id", "starboard_message_id"],
    )

    op.create_table(
        "permission_ranks",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.String(500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permission_ranks")),
        sa.UniqueConstraint("guild_id", "rank", name=op.f("uq_permission_ranks_guild_id_rank")),
        _guild_fk("permission_ranks"),
        _check("rank BETWEEN 0 AND 100", "ck_permission_ranks_rank_range"),
        _check("length(name) BETWEEN 1 AND 100", "ck_permission_ranks_name_length"),
        _check("length(description) <= 500", "ck_permission_ranks_description_length"),
    )

    op.create_table(
        "permission_assignments",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("permission_rank_id", ID, nullable=False),
        sa.Column("role_id", SNOWFLAKE, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permission_assignments")),
        sa.UniqueConstraint("guild_id", "role_id", name=op.f("uq_permission_assignments_guild_id_role_id")),
        _guild_fk("permission_assignments"),
        sa.ForeignKeyConstraint(
            ["permission_rank_id"],
            ["permission_ranks.id"],
            name=op.f("fk_permission_assignments_permission_rank_id_permission_ranks"),
            ondelete="CASCADE",
        ),
        _check("role_id > 0", "ck_permission_assignments_role_id_positive"),
    )
    op.create_index(
        op.f("ix_permission_assignments_permission_rank_id"), "permission_assignments", ["permission_rank_id"]
    )

    op.create_table(
        "permission_commands",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("command_name", sa.String(100), nullable=False),
        sa.Column("required_rank", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_permission_commands")),
        sa.UniqueConstraint(
            "guild_id", "command_name", name=op.f("uq_permission_commands_guild_id_command_name")
        ),
        _guild_fk("permission_commands"),
        _check("length(command_name) BETWEEN 1 AND 100", "ck_permission_commands_command_name_length"),
        _check("required_rank BETWEEN 0 AND 100", "ck_permission_commands_required_rank_range"),
    )

    op.create_table(
        "audit_log",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("guild_id", SNOWFLAKE, nullable=False),
        sa.Column("actor_id", SNOWFLAKE, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_id", SNOWFLAKE, nullable=True),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("details", JSON, nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        _guild_fk("audit_log"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_audit_log_case_id_cases"), ondelete="SET NULL"
        ),
        _check("actor_id > 0", "ck_audit_log_actor_id_positive"),
        _check("target_id > 0", "ck_audit_log_target_id_positive"),
        _check("length(action) BETWEEN 1 AND 64", "ck_audit_log_action_length"),
    )
    op.create_index(op.f("ix_audit_log_guild_id_created_at"), "audit_log", ["guild_id", "created_at"])
    op.create_index(op.f("ix_audit_log_case_id"), "audit_log", ["case_id"])

    op.create_table(
        "member_status",
        sa.Column("guild_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("member_id", SNOWFLAKE, autoincrement=False, nullable=False),
        sa.Column("is_banned", sa.Boolean(), nullable=False),
        sa.Column("is_jailed", sa.Boolean(), nullable=False),
        sa.Column("is_snippet_banned", sa.Boolean(), nullable=False),
        sa.Column("is_poll_banned", sa.Boolean(), nullable=False),
        sa.Column("timed_out_until", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("guild_id", "member_id", name=op.f("pk_member_status")),
        _guild_fk("member_status"),
        _check("member_id > 0", "ck_member_status_member_id_positive"),
    )


def downgrade() -> None:
    for table in (
        "member_status",
        "audit_log",
        "permission_commands",
        "permission_assignments",
        "permission_ranks",
        "starboard_message",
        "starboard",
        "levels_channel_blacklist",
        "levels_role_multiplier",
        "levels_role_reward",
        "levels_config",
        "levels",
        "afk",
        "reminder",
        "snippet",
        "cases",
        "guild_config",
        "guild",
        "cache_entry",
    ):
        op.drop_table(table)
