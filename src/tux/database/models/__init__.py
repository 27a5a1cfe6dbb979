"""The Tux domain as SQLAlchemy 2 typed models; importing this package registers every table.

Table and column names follow Tux's original schema so existing data carries over.
"""

from __future__ import annotations

from tux.database.models.afk import AFK
from tux.database.models.audit_log import AuditLog
from tux.database.models.base import Base, UTCDateTime, utcnow
from tux.database.models.cache_entry import CacheEntry
from tux.database.models.cases import Case
from tux.database.models.enums import CaseStatus, CaseType, OnboardingStage
from tux.database.models.guild import Guild
from tux.database.models.guild_config import GuildConfig
from tux.database.models.levels import Levels
from tux.database.models.levels_config import (
    LevelChannelBlacklist,
    LevelRoleMultiplier,
    LevelRoleReward,
    LevelsConfig,
)
from tux.database.models.member_status import MemberStatus
from tux.database.models.permissions import PermissionAssignment, PermissionCommand, PermissionRank
from tux.database.models.reminder import Reminder
from tux.database.models.snippet import Snippet
from tux.database.models.starboard import Starboard, StarboardMessage

__all__ = [
    "AFK",
    "AuditLog",
    "Base",
    "CacheEntry",
    "Case",
    "CaseStatus",
    "CaseType",
    "Guild",
    "GuildConfig",
    "LevelChannelBlacklist",
    "LevelRoleMultiplier",
    "LevelRoleReward",
    "Levels",
    "LevelsConfig",
    "MemberStatus",
    "OnboardingStage",
    "PermissionAssignment",
    "PermissionCommand",
    "PermissionRank",
    "Reminder",
    "Snippet",
    "Starboard",
    "StarboardMessage",
    "UTCDateTime",
    "utcnow",
]
