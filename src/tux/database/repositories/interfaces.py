"""Repository interfaces: what each entity's repository offers, independent of SQLAlchemy.

Cogs and services depend on these; the registry maps each interface to its implementation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from tux.database.models import (
    AFK,
    AuditLog,
    Case,
    CaseType,
    Guild,
    GuildConfig,
    LevelRoleReward,
    Levels,
    LevelsConfig,
    MemberStatus,
    PermissionAssignment,
    PermissionCommand,
    PermissionRank,
    Reminder,
    Snippet,
    Starboard,
    StarboardMessage,
)
from tux.database.repositories.records import MessageContext, MessageState, ModerationSettings, XpAward

ModelType = TypeVar("ModelType")


class IRepository(Generic[ModelType], ABC):
    """The operations every repository has.

    ``id`` is the primary-key value, a tuple in key order for composite keys (``levels`` and ``afk``
    take ``(member_id, guild_id)``).
    """

    @abstractmethod
    async def find_by_id(self, id: Any) -> ModelType | None:  # noqa: A002 - the plan's name
        """Return the entity with primary key ``id``, or ``None``."""

    @abstractmethod
    async def find_all(
        self,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        **filters: object,
    ) -> list[ModelType]:
        """Return the entities matching ``filters``."""

    @abstractmethod
    async def create(self, data: Mapping[str, object]) -> ModelType:
        """Create an entity from ``data`` and return it."""

    @abstractmethod
    async def update(self, id: Any, data: Mapping[str, object]) -> ModelType | None:  # noqa: A002
        """Update entity ``id`` with ``data``; ``None`` when it does not exist."""

    @abstractmethod
    async def delete(self, id: Any) -> bool:  # noqa: A002
        """Delete entity ``id``; return whether it existed."""

    @abstractmethod
    async def exists(self, **filters: object) -> bool:
        """Return whether an entity matches ``filters``."""

    @abstractmethod
    async def count(self, **filters: object) -> int:
        """Return how many entities match ``filters``."""


class IGuildRepository(IRepository[Guild]):
    """Guilds: the root every other row hangs from."""

    @abstractmethod
    async def ensure(self, guild_id: int) -> Guild:
        """Return guild ``guild_id``, inserting it if missing (one ``INSERT ... ON CONFLICT``)."""


class IGuildConfigRepository(IRepository[GuildConfig]):
    """Per-guild configuration; keyed by the guild's id."""

    @abstractmethod
    async def get_prefix(self, guild_id: int) -> str | None:
        """Return the guild's command prefix, or ``None`` when it has no config."""

    @abstractmethod
    async def get_moderation_settings(self, guild_id: int) -> ModerationSettings | None:
        """Return every log channel and the jail channel/role in one query."""

    @abstractmethod
    async def upsert_config(self, guild_id: int, data: Mapping[str, object]) -> GuildConfig:
        """Create or update the config of ``guild_id`` (and its guild row) atomically."""


class ICaseRepository(IRepository[Case]):
    """Moderation cases, numbered per guild."""

    @abstractmethod
    async def find_by_guild_and_number(self, guild_id: int, case_number: int) -> Case | None:
        """Return case ``case_number`` of ``guild_id``."""

    @abstractmethod
    async def find_by_user_and_type(
        self, guild_id: int, user_id: int, case_types: Sequence[CaseType]
    ) -> list[Case]:
        """Return the member's cases of the given types, newest first."""

    @abstractmethod
    async def get_next_case_number(self, guild_id: int) -> int:
        """Allocate the guild's next case number (creating the guild row if needed).

        Atomic: it increments ``guild.case_count`` in one statement and holds the row lock until the
        surrounding transaction ends, so numbers have no duplicates and, on rollback, no gaps.
        """

    @abstractmethod
    async def latest_of_types(
        self, guild_id: int, user_id: int, case_types: Sequence[CaseType]
    ) -> Case | None:
        """Return the member's newest case among ``case_types`` (e.g. JAIL/UNJAIL)."""

    @abstractmethod
    async def claim_expired_tempbans(self, now: datetime, limit: int = 100) -> list[Case]:
        """Mark due, unprocessed tempbans processed and return them; each is returned exactly once."""

    @abstractmethod
    async def count_by_type(self, guild_id: int) -> dict[CaseType, int]:
        """Return how many cases of each type the guild has."""

    @abstractmethod
    async def history(
        self,
        guild_id: int,
        *,
        user_id: int | None = None,
        before_case_number: int | None = None,
        limit: int = 20,
    ) -> list[Case]:
        """Return a page of cases newest first; pass the last page's lowest number to continue."""

    @abstractmethod
    async def void(self, guild_id: int, case_number: int, reason: str, voided_at: datetime) -> Case | None:
        """Mark an active case void; ``None`` when it does not exist or is already void."""


class IMemberStatusRepository(IRepository[MemberStatus]):
    """Restriction flags a moderation action sets, readable by primary key."""

    @abstractmethod
    async def set_status(self, guild_id: int, member_id: int, data: Mapping[str, object]) -> MemberStatus:
        """Upsert the given flags of a member, leaving the others as they are."""

    @abstractmethod
    async def get_status(self, guild_id: int, member_id: int) -> MemberStatus | None:
        """Return the member's status row (one primary-key read)."""


class IAuditLogRepository(IRepository[AuditLog]):
    """The append-only record of moderation and configuration actions."""

    @abstractmethod
    async def append(
        self,
        guild_id: int,
        actor_id: int,
        action: str,
        *,
        target_id: int | None = None,
        case_id: int | None = None,
        details: Mapping[str, object] | None = None,
    ) -> AuditLog:
        """Append one entry."""

    @abstractmethod
    async def page(self, guild_id: int, *, before_id: int | None = None, limit: int = 50) -> list[AuditLog]:
        """Return entries newest first (keyset pagination on ``id``)."""


class IPermissionRankRepository(IRepository[PermissionRank]):
    """Permission ranks, their role assignments and per-command requirements of a guild."""

    @abstractmethod
    async def ranks_of_guild(self, guild_id: int) -> list[PermissionRank]:
        """Return the guild's ranks, lowest first."""

    @abstractmethod
    async def ensure_ranks(self, guild_id: int, ranks: Sequence[Mapping[str, object]]) -> int:
        """Insert the ranks that are missing (by rank number); return how many were inserted."""

    @abstractmethod
    async def assign_role(self, guild_id: int, role_id: int, rank: int) -> PermissionAssignment:
        """Give ``role_id`` the permission rank ``rank`` (replacing a previous assignment)."""

    @abstractmethod
    async def assigned_roles(self, guild_id: int) -> dict[int, list[int]]:
        """Return the role ids granting each rank of the guild (rank -> role ids, ascending)."""

    @abstractmethod
    async def member_rank(self, guild_id: int, role_ids: Sequence[int]) -> int:
        """Return the highest rank held through ``role_ids`` (0 when none)."""

    @abstractmethod
    async def set_command_rank(
        self, guild_id: int, command_name: str, required_rank: int
    ) -> PermissionCommand:
        """Set the rank needed to run ``command_name``."""

    @abstractmethod
    async def command_rank(self, guild_id: int, command_name: str) -> int | None:
        """Return the rank needed to run ``command_name``, ``None`` when unset."""


class ISnippetRepository(IRepository[Snippet]):
    """Snippets and their aliases; names are unique per guild case-insensitively."""

    @abstractmethod
    async def find_by_name(self, guild_id: int, name: str) -> Snippet | None:
        """Return the snippet called ``name`` (any case) without following aliases."""

    @abstractmethod
    async def resolve(self, guild_id: int, name: str) -> Snippet | None:
        """Return the snippet ``name`` refers to, following an alias to its target."""

    @abstractmethod
    async def use(self, guild_id: int, name: str) -> Snippet | None:
        """Resolve ``name``, atomically add one to the target's ``uses`` and return the target."""

    @abstractmethod
    async def aliases_of(self, guild_id: int, name: str) -> list[Snippet]:
        """Return the aliases pointing at ``name``."""

    @abstractmethod
    async def list_by_guild(
        self, guild_id: int, *, after_name: str | None = None, limit: int = 50
    ) -> list[Snippet]:
        """Return snippets ordered by lower-cased name (keyset pagination)."""


class ILevelsRepository(IRepository[Levels]):
    """XP and levels per member; keyed by ``(member_id, guild_id)``."""

    @abstractmethod
    async def add_xp(self, *, guild_id: int, member_id: int, amount: float) -> float:
        """Atomically add ``amount`` XP (creating the row if needed) and return the new total."""

    @abstractmethod
    async def set_xp(self, *, guild_id: int, member_id: int, xp: float, level: int) -> Levels:
        """Set XP and level together."""

    @abstractmethod
    async def leaderboard(
        self, guild_id: int, *, limit: int = 10, after: tuple[float, int] | None = None
    ) -> list[Levels]:
        """Return the top members by XP, excluding blacklisted ones; ``after`` is the last (xp, member_id)."""

    @abstractmethod
    async def rank(self, *, guild_id: int, member_id: int) -> int | None:
        """Return the member's 1-based leaderboard position, ``None`` if absent or blacklisted."""

    @abstractmethod
    async def set_blacklisted(self, *, guild_id: int, member_id: int, blacklisted: bool) -> Levels:
        """Set whether the member is excluded from XP and the leaderboard."""


class ILevelsConfigRepository(IRepository[LevelsConfig]):
    """A guild's XP rules: cooldown, role rewards, role multipliers and blacklisted channels."""

    @abstractmethod
    async def role_rewards(self, guild_id: int) -> list[LevelRoleReward]:
        """Return the guild's role rewards, lowest level first."""

    @abstractmethod
    async def set_role_reward(self, guild_id: int, level: int, role_id: int) -> LevelRoleReward:
        """Reward reaching ``level`` with ``role_id``."""

    @abstractmethod
    async def role_multipliers(self, guild_id: int) -> dict[int, float]:
        """Return XP multipliers keyed by role id."""

    @abstractmethod
    async def set_role_multiplier(self, guild_id: int, role_id: int, multiplier: float) -> None:
        """Set the XP multiplier of ``role_id``."""

    @abstractmethod
    async def blacklisted_channels(self, guild_id: int) -> set[int]:
        """Return the channels where no XP is earned."""

    @abstractmethod
    async def set_channel_blacklisted(self, guild_id: int, channel_id: int, blacklisted: bool) -> None:
        """Add or remove ``channel_id`` from the XP blacklist."""


class IAfkRepository(IRepository[AFK]):
    """AFK state per member; keyed by ``(member_id, guild_id)``."""

    @abstractmethod
    async def set_afk(self, data: Mapping[str, object]) -> AFK:
        """Create or replace the member's AFK entry."""

    @abstractmethod
    async def remove(self, *, guild_id: int, member_id: int) -> bool:
        """Clear the member's AFK entry; return whether there was one."""

    @abstractmethod
    async def find_expired(self, now: datetime, limit: int = 100) -> list[AFK]:
        """Return entries whose ``until`` has passed."""


class IReminderRepository(IRepository[Reminder]):
    """Reminders; a due reminder is marked sent before delivery so a restart never sends it twice."""

    @abstractmethod
    async def pending(self, *, guild_id: int | None = None, user_id: int | None = None) -> list[Reminder]:
        """Return unsent reminders, soonest first."""

    @abstractmethod
    async def claim_due(self, now: datetime, limit: int = 100) -> list[Reminder]:
        """Mark due unsent reminders sent and return them; each is returned exactly once."""


class IStarboardRepository(IRepository[Starboard]):
    """Starboard configuration; keyed by guild id."""

    @abstractmethod
    async def upsert_starboard(self, guild_id: int, data: Mapping[str, object]) -> Starboard:
        """Create or update the guild's starboard configuration."""


class IStarboardMessageRepository(IRepository[StarboardMessage]):
    """Messages posted to a starboard and their star counts."""

    @abstractmethod
    async def change_stars(self, *, message_id: int, guild_id: int, delta: int) -> int | None:
        """Atomically add ``delta`` (never below 0) to the star count; return it, ``None`` if absent."""

    @abstractmethod
    async def find_by_starboard_message(
        self, guild_id: int, starboard_message_id: int
    ) -> StarboardMessage | None:
        """Return the original message of a starboard post."""


class ILevelsActivityRepository(ABC):
    """Per-message levelling queries: the decision read, the gated award and the level write."""

    @abstractmethod
    async def message_context(
        self, *, guild_id: int, member_id: int, channel_id: int, role_ids: Sequence[int]
    ) -> MessageContext:
        """Return the guild's rules, the channel and role facts and the member's row in one query."""

    @abstractmethod
    async def message_state(self, *, guild_id: int, member_id: int) -> MessageState:
        """Return the guild's rules, blacklisted channels, role multipliers and the member's row at once.

        One query, and one cacheable value per member (``MessageState.context_for`` resolves it for a
        message's channel and roles).
        """

    @abstractmethod
    async def award_if_cooled_down(
        self,
        *,
        guild_id: int,
        member_id: int,
        amount: float,
        now: datetime,
        cooldown_seconds: int,
        create_guild: bool,
    ) -> XpAward | None:
        """Add ``amount`` XP and stamp ``now`` unless blacklisted or inside the cooldown; atomic.

        ``None`` when no XP was awarded. ``create_guild`` inserts the guild row first (when the context
        said it is missing).
        """

    @abstractmethod
    async def store_level(self, *, guild_id: int, member_id: int, level: int) -> None:
        """Write the member's level (after an award moved their XP across a threshold)."""
