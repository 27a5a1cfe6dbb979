"""DDL of Tux's two earlier schemas, written from the field lists of Tux's public repository.

Prisma era: ``prisma/schema/**/*.prisma`` (tables named after the models, quoted; ``BigInt[]`` role
lists; a ``CaseType`` enum). SQLModel era: ``src/tux/database/models/models.py`` and its first alembic
revision (lower-case tables, ``id`` keys, ``created_at``/``updated_at`` on every table, JSON columns).
"""

from __future__ import annotations

CASE_TYPES = (
    "'BAN','UNBAN','HACKBAN','TEMPBAN','KICK','SNIPPETBAN','TIMEOUT','UNTIMEOUT','WARN','JAIL','UNJAIL',"
    "'SNIPPETUNBAN','POLLBAN','POLLUNBAN'"
)
LOG_COLUMNS = ", ".join(
    f"{name} BIGINT"
    for name in ("mod_log_id", "audit_log_id", "join_log_id", "private_log_id", "report_log_id", "dev_log_id")
)
PERM_LEVELS = ", ".join(f"perm_level_{level}_role_id BIGINT" for level in range(8))

PRISMA_DDL = f"""
CREATE TYPE "CaseType" AS ENUM ({CASE_TYPES}, 'UNTEMPBAN');
CREATE TABLE "Guild" (
    guild_id BIGINT PRIMARY KEY, guild_joined_at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP,
    case_count BIGINT NOT NULL DEFAULT 0);
CREATE TABLE "GuildConfig" (
    prefix TEXT, {LOG_COLUMNS}, jail_channel_id BIGINT, general_channel_id BIGINT,
    starboard_channel_id BIGINT, {PERM_LEVELS}, base_staff_role_id BIGINT, base_member_role_id BIGINT,
    jail_role_id BIGINT, quarantine_role_id BIGINT,
    guild_id BIGINT PRIMARY KEY REFERENCES "Guild"(guild_id));
CREATE TABLE "Case" (
    case_id BIGSERIAL PRIMARY KEY, case_status BOOLEAN DEFAULT true, case_type "CaseType" NOT NULL,
    case_reason TEXT NOT NULL, case_moderator_id BIGINT NOT NULL, case_user_id BIGINT NOT NULL,
    case_user_roles BIGINT[] DEFAULT ARRAY[]::BIGINT[], case_number BIGINT,
    case_created_at TIMESTAMP(3) DEFAULT CURRENT_TIMESTAMP, case_expires_at TIMESTAMP(3),
    case_tempban_expired BOOLEAN DEFAULT false, guild_id BIGINT NOT NULL REFERENCES "Guild"(guild_id),
    UNIQUE (case_number, guild_id));
CREATE TABLE "Note" (
    note_id BIGSERIAL PRIMARY KEY, note_content TEXT NOT NULL,
    note_created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, note_moderator_id BIGINT NOT NULL,
    note_user_id BIGINT NOT NULL, note_number BIGINT, guild_id BIGINT NOT NULL REFERENCES "Guild"(guild_id),
    UNIQUE (note_number, guild_id));
CREATE TABLE "Reminder" (
    reminder_id BIGSERIAL PRIMARY KEY, reminder_content TEXT NOT NULL,
    reminder_created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    reminder_expires_at TIMESTAMP(3) NOT NULL, reminder_channel_id BIGINT NOT NULL,
    reminder_user_id BIGINT NOT NULL, reminder_sent BOOLEAN NOT NULL DEFAULT false,
    guild_id BIGINT NOT NULL REFERENCES "Guild"(guild_id), UNIQUE (reminder_id, guild_id));
CREATE TABLE "Snippet" (
    snippet_id BIGSERIAL PRIMARY KEY, snippet_name TEXT NOT NULL, snippet_content TEXT,
    snippet_user_id BIGINT NOT NULL, snippet_created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    guild_id BIGINT NOT NULL REFERENCES "Guild"(guild_id), uses BIGINT NOT NULL DEFAULT 0,
    locked BOOLEAN NOT NULL DEFAULT false, alias TEXT, UNIQUE (snippet_name, guild_id));
CREATE TABLE "AFKModel" (
    member_id BIGINT PRIMARY KEY, nickname TEXT NOT NULL, reason TEXT NOT NULL,
    since TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, until TIMESTAMP(3),
    guild_id BIGINT NOT NULL REFERENCES "Guild"(guild_id), enforced BOOLEAN NOT NULL DEFAULT false,
    perm_afk BOOLEAN NOT NULL DEFAULT false, UNIQUE (member_id, guild_id));
CREATE TABLE "Levels" (
    member_id BIGINT NOT NULL, xp DOUBLE PRECISION NOT NULL DEFAULT 0, level BIGINT NOT NULL DEFAULT 0,
    blacklisted BOOLEAN NOT NULL DEFAULT false, last_message TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    guild_id BIGINT NOT NULL REFERENCES "Guild"(guild_id), PRIMARY KEY (member_id, guild_id));
CREATE TABLE "Starboard" (
    guild_id BIGINT PRIMARY KEY REFERENCES "Guild"(guild_id), starboard_channel_id BIGINT NOT NULL,
    starboard_emoji TEXT NOT NULL, starboard_threshold INTEGER NOT NULL);
CREATE TABLE "StarboardMessage" (
    message_id BIGINT PRIMARY KEY, message_content TEXT NOT NULL,
    message_created_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    message_expires_at TIMESTAMP(3) NOT NULL, message_channel_id BIGINT NOT NULL,
    message_user_id BIGINT NOT NULL, message_guild_id BIGINT NOT NULL REFERENCES "Guild"(guild_id),
    star_count INTEGER NOT NULL DEFAULT 0, starboard_message_id BIGINT NOT NULL,
    UNIQUE (message_id, message_guild_id));
"""

STAMPS = "created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP"

SQLMODEL_DDL = f"""
CREATE TYPE case_type_enum AS ENUM ({CASE_TYPES});
CREATE TYPE onboarding_stage_enum AS ENUM ('not_started','discovered','initialized','configured','completed');
CREATE TABLE guild ({STAMPS}, id BIGINT PRIMARY KEY, guild_joined_at TIMESTAMP, case_count INTEGER NOT NULL);
CREATE TABLE guild_config (
    {STAMPS}, id BIGINT PRIMARY KEY REFERENCES guild(id), prefix VARCHAR(3) NOT NULL, {LOG_COLUMNS},
    jail_channel_id BIGINT, jail_role_id BIGINT, onboarding_completed BOOLEAN NOT NULL,
    onboarding_stage onboarding_stage_enum);
CREATE TABLE cases (
    {STAMPS}, id BIGSERIAL PRIMARY KEY, case_status BOOLEAN NOT NULL, case_processed BOOLEAN NOT NULL,
    case_type case_type_enum, case_reason VARCHAR(2000) NOT NULL, case_moderator_id BIGINT NOT NULL,
    case_user_id BIGINT NOT NULL, case_user_roles JSON NOT NULL, case_number INTEGER,
    case_expires_at TIMESTAMP, case_metadata JSON, mod_log_message_id BIGINT,
    guild_id BIGINT NOT NULL REFERENCES guild(id));
CREATE TABLE snippet (
    {STAMPS}, id BIGSERIAL PRIMARY KEY, snippet_name VARCHAR(100) NOT NULL, snippet_content VARCHAR(4000),
    snippet_user_id BIGINT NOT NULL, guild_id BIGINT NOT NULL REFERENCES guild(id), uses INTEGER NOT NULL,
    locked BOOLEAN NOT NULL, alias VARCHAR(100));
CREATE TABLE reminder (
    {STAMPS}, id BIGSERIAL PRIMARY KEY, reminder_content VARCHAR(2000) NOT NULL,
    reminder_expires_at TIMESTAMP NOT NULL, reminder_channel_id BIGINT NOT NULL,
    reminder_user_id BIGINT NOT NULL, reminder_sent BOOLEAN NOT NULL,
    guild_id BIGINT NOT NULL REFERENCES guild(id));
CREATE TABLE afk (
    {STAMPS}, member_id BIGINT NOT NULL, guild_id BIGINT NOT NULL REFERENCES guild(id),
    nickname VARCHAR(100) NOT NULL, reason VARCHAR(500) NOT NULL, since TIMESTAMP NOT NULL, until TIMESTAMP,
    enforced BOOLEAN NOT NULL, perm_afk BOOLEAN NOT NULL, PRIMARY KEY (member_id, guild_id));
CREATE TABLE levels (
    {STAMPS}, member_id BIGINT NOT NULL, guild_id BIGINT NOT NULL REFERENCES guild(id), xp FLOAT NOT NULL,
    level INTEGER NOT NULL, blacklisted BOOLEAN NOT NULL, last_message TIMESTAMP NOT NULL,
    PRIMARY KEY (member_id, guild_id));
CREATE TABLE starboard (
    {STAMPS}, id BIGINT PRIMARY KEY REFERENCES guild(id), starboard_channel_id BIGINT NOT NULL,
    starboard_emoji VARCHAR(64) NOT NULL, starboard_threshold INTEGER NOT NULL);
CREATE TABLE starboard_message (
    {STAMPS}, id BIGINT PRIMARY KEY, message_content VARCHAR(4000) NOT NULL,
    message_expires_at TIMESTAMP NOT NULL, message_channel_id BIGINT NOT NULL,
    message_user_id BIGINT NOT NULL, message_guild_id BIGINT NOT NULL REFERENCES guild(id),
    star_count INTEGER NOT NULL, starboard_message_id BIGINT NOT NULL);
CREATE TABLE permission_ranks (
    {STAMPS}, id BIGSERIAL PRIMARY KEY, guild_id BIGINT NOT NULL REFERENCES guild(id),
    rank INTEGER NOT NULL, name VARCHAR(100) NOT NULL, description VARCHAR(500), UNIQUE (guild_id, rank));
CREATE TABLE permission_assignments (
    {STAMPS}, id BIGSERIAL PRIMARY KEY, guild_id BIGINT NOT NULL REFERENCES guild(id),
    permission_rank_id BIGINT NOT NULL REFERENCES permission_ranks(id), role_id BIGINT NOT NULL);
CREATE TABLE permission_commands (
    {STAMPS}, id BIGSERIAL PRIMARY KEY, guild_id BIGINT NOT NULL REFERENCES guild(id),
    command_name VARCHAR(100) NOT NULL, required_rank INTEGER NOT NULL, description VARCHAR(500));
"""
