"""How the tables of an existing Tux database map onto ours, for ``tux-db import``.

Two source schemas are known: the Prisma era (tables named after the Prisma models: ``"Guild"``,
``"Case"``, ``"AFKModel"``, ...; ``case_id``, ``case_tempban_expired``, boolean ``case_status``) and the
SQLModel era (``guild``, ``cases``, ``snippet``, ... with ``id`` keys and ``created_at`` columns).
Each :class:`TableCopy` names a source table, our model, the source column of each of our columns and
an optional repair of the row; a row that cannot be kept raises :class:`SkipRow` with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tux.database.models import (
    AFK,
    Case,
    CaseStatus,
    CaseType,
    Guild,
    GuildConfig,
    Levels,
    OnboardingStage,
    PermissionAssignment,
    PermissionCommand,
    PermissionRank,
    Reminder,
    Snippet,
    Starboard,
    StarboardMessage,
)
from tux.database.models.guild_config import CHANNEL_AND_ROLE_COLUMNS

Row = dict[str, Any]

NO_REASON = "No reason provided"
"""Tux's own default reason, given to cases recorded with an empty one."""


class SkipRow(Exception):  # noqa: N818 - a signal, not an error
    """The source row cannot be stored in our schema; ``str(self)`` says why."""


@dataclass(frozen=True)
class TableCopy:
    """One source table copied into one of our models.

    Parameters
    ----------
    source
        The source table's name.
    model
        Our mapped class.
    columns
        Our column name -> the source column it comes from.
    repair
        Called on the mapped row; returns it fixed, or raises :class:`SkipRow`.
    """

    source: str
    model: type[Any]
    columns: Mapping[str, str]
    repair: Callable[[Row], Row] | None = None


@dataclass(frozen=True)
class SourceSchema:
    """A known Tux schema: the table that identifies it, the copies in order, tables left behind."""

    name: str
    marker: str
    copies: tuple[TableCopy, ...]
    not_copied: tuple[str, ...] = ()


def same(*names: str) -> dict[str, str]:
    """Map columns that have the same name on both sides."""
    return {name: name for name in names}


def _utc(value: Any) -> Any:
    """Prisma and SQLModel stored naive UTC timestamps; ours are timezone-aware."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _json(value: Any) -> Any:
    """JSON columns read through a plain query arrive as text from asyncpg."""
    return json.loads(value) if isinstance(value, str) else value


def map_row(copy: TableCopy, source: Mapping[str, Any]) -> Row:
    """Return ``source`` as a row of ``copy.model``, repaired; raise :class:`SkipRow` to leave it out."""
    row = {target: _utc(source[name]) for target, name in copy.columns.items()}
    return copy.repair(row) if copy.repair is not None else row


def _case(row: Row, *, status: object) -> Row:
    if row["case_number"] is None:
        raise SkipRow("case without a case number")
    kind = "UNBAN" if row["case_type"] == "UNTEMPBAN" else row["case_type"]
    if kind not in CaseType.__members__:
        raise SkipRow(f"unknown case type {row['case_type']!r}")
    row["case_type"] = CaseType(kind)
    row["case_reason"] = row["case_reason"] or NO_REASON
    row["case_user_roles"] = [int(role) for role in _json(row["case_user_roles"]) or ()]
    row["case_processed"] = bool(row["case_processed"])
    row["case_status"] = CaseStatus.VOIDED if status is False else CaseStatus.ACTIVE
    return row


def prisma_case(row: Row) -> Row:
    """Prisma's ``case_status`` is a nullable boolean (``False``: the case no longer counts)."""
    return _case(row, status=row.pop("case_status"))


def sqlmodel_case(row: Row) -> Row:
    """SQLModel's ``case_status`` is a boolean; ``case_metadata`` may be null."""
    row["case_metadata"] = _json(row["case_metadata"]) or {}
    return _case(row, status=row.pop("case_status"))


def afk(row: Row) -> Row:
    """An AFK whose end is not after its start is over: leave it behind."""
    if row["until"] is not None and row["since"] is not None and row["until"] <= row["since"]:
        raise SkipRow("AFK already ended")
    return row


def onboarding(row: Row) -> Row:
    """SQLModel's lower-case stages become ours; ``onboarding_completed`` becomes the COMPLETED stage."""
    stage = str(row.pop("onboarding_stage") or "").upper()
    completed = row.pop("onboarding_completed")
    if completed:
        stage = OnboardingStage.COMPLETED.value
    row["onboarding_stage"] = (
        OnboardingStage(stage) if stage in OnboardingStage.__members__ else OnboardingStage.NOT_STARTED
    )
    return row


CONFIG = {"id": "guild_id", "prefix": "prefix", **same(*CHANNEL_AND_ROLE_COLUMNS)}
CASE = same(
    "guild_id",
    "case_number",
    "case_type",
    "case_reason",
    "case_moderator_id",
    "case_user_id",
    "case_user_roles",
    "case_expires_at",
    "case_status",
)
SNIPPET = same("snippet_name", "snippet_content", "snippet_user_id", "guild_id", "uses", "locked", "alias")
REMINDER = same(
    "reminder_content",
    "reminder_expires_at",
    "reminder_channel_id",
    "reminder_user_id",
    "reminder_sent",
    "guild_id",
)
AFK_COLUMNS = same("member_id", "guild_id", "nickname", "reason", "since", "until", "enforced", "perm_afk")
LEVELS = same("member_id", "guild_id", "xp", "level", "blacklisted", "last_message")
STARBOARD = same("starboard_channel_id", "starboard_emoji", "starboard_threshold")
MESSAGE = same(
    "message_content",
    "message_expires_at",
    "message_channel_id",
    "message_user_id",
    "message_guild_id",
    "star_count",
    "starboard_message_id",
)

PRISMA = SourceSchema(
    name="Prisma",
    marker="Case",
    copies=(
        TableCopy("Guild", Guild, {"id": "guild_id", **same("guild_joined_at", "case_count")}),
        TableCopy("GuildConfig", GuildConfig, CONFIG),
        TableCopy(
            "Case",
            Case,
            {
                "id": "case_id",
                "case_created_at": "case_created_at",
                "case_processed": "case_tempban_expired",
                **CASE,
            },
            prisma_case,
        ),
        TableCopy("Snippet", Snippet, {"snippet_id": "snippet_id", **same("snippet_created_at"), **SNIPPET}),
        TableCopy(
            "Reminder", Reminder, {"reminder_id": "reminder_id", **same("reminder_created_at"), **REMINDER}
        ),
        TableCopy("AFKModel", AFK, AFK_COLUMNS, afk),
        TableCopy("Levels", Levels, LEVELS),
        TableCopy("Starboard", Starboard, {"guild_id": "guild_id", **STARBOARD}),
        TableCopy(
            "StarboardMessage",
            StarboardMessage,
            {"message_id": "message_id", "message_created_at": "message_created_at", **MESSAGE},
        ),
    ),
    not_copied=("Note",),
)

SQLMODEL = SourceSchema(
    name="SQLModel",
    marker="cases",
    copies=(
        TableCopy("guild", Guild, same("id", "guild_joined_at", "case_count")),
        TableCopy(
            "guild_config",
            GuildConfig,
            {**CONFIG, "id": "id", **same("onboarding_stage", "onboarding_completed")},
            onboarding,
        ),
        TableCopy(
            "cases",
            Case,
            {
                "id": "id",
                "case_created_at": "created_at",
                **same("case_processed", "case_metadata", "mod_log_message_id"),
                **CASE,
            },
            sqlmodel_case,
        ),
        TableCopy("snippet", Snippet, {"snippet_id": "id", "snippet_created_at": "created_at", **SNIPPET}),
        TableCopy(
            "reminder", Reminder, {"reminder_id": "id", "reminder_created_at": "created_at", **REMINDER}
        ),
        TableCopy("afk", AFK, AFK_COLUMNS, afk),
        TableCopy("levels", Levels, LEVELS),
        TableCopy("starboard", Starboard, {"guild_id": "id", **STARBOARD}),
        TableCopy(
            "starboard_message",
            StarboardMessage,
            {"message_id": "id", "message_created_at": "created_at", **MESSAGE},
        ),
        TableCopy("permission_ranks", PermissionRank, same("id", "guild_id", "rank", "name", "description")),
        TableCopy(
            "permission_assignments",
            PermissionAssignment,
            same("id", "guild_id", "permission_rank_id", "role_id"),
        ),
        TableCopy(
            "permission_commands", PermissionCommand, same("id", "guild_id", "command_name", "required_rank")
        ),
    ),
)

SCHEMAS = (PRISMA, SQLMODEL)
