"""What each moderation action does to a member's status, and what its inputs must look like.

:class:`~tux.database.services.moderation.ModerationService` runs every action through one code path
driven by these tables, so an action is a table row rather than another copy of the unit of work. The
input checks raise :class:`~tux.database.exceptions.ValidationError` before a transaction is opened,
so bad input never takes a lock (on SQLite, opening a write transaction takes the database lock).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from tux.database.core.ids import INT64_MAX
from tux.database.exceptions import ValidationError
from tux.database.models import Case, CaseType, utcnow
from tux.database.repositories.support import MAX_PAGE_SIZE
from tux.database.repositories.validation import text_problem

MAX_REASON_LENGTH = 2000
"""The ``case_reason`` / ``case_void_reason`` column limit."""

MAX_ROLE_IDS = 250
"""A Discord guild has at most 250 roles, so a jailed member cannot have held more."""

StatusValue = bool | datetime | None
"""A member-status column value: a flag, or the end of a timeout."""


@dataclass(frozen=True, slots=True)
class Restriction:
    """A member-status column and the case types that impose and lift it.

    The member's newest *active* case among :attr:`case_types` decides the column: an imposing case
    sets it, a lifting case (or no case at all) clears it. That rule both applies a new action (the new
    case is the newest) and restores the column when a case is voided or a tempban expires.

    Parameters
    ----------
    field
        The ``member_status`` column.
    imposed_by
        Case types that set the column.
    lifted_by
        Case types that clear it.
    timed
        The column holds the imposing case's expiry instead of ``True``.
    """

    field: str
    imposed_by: frozenset[CaseType]
    lifted_by: frozenset[CaseType]
    timed: bool = False

    @property
    def case_types(self) -> tuple[CaseType, ...]:
        """Every case type that decides this column."""
        return tuple(sorted(self.imposed_by | self.lifted_by))

    @property
    def cleared(self) -> StatusValue:
        """The column's value when nothing imposes the restriction."""
        return None if self.timed else False

    def value_after(self, deciding: Case | None) -> StatusValue:
        """Return the column's value when ``deciding`` is the member's newest active case of the pair."""
        if deciding is None or deciding.case_type in self.lifted_by:
            return self.cleared
        if self.timed:
            return deciding.case_expires_at
        # A tempban whose expiry has been processed no longer bans anybody.
        return not (deciding.case_type == CaseType.TEMPBAN and deciding.case_processed)


BANNED = Restriction(
    "is_banned", frozenset({CaseType.BAN, CaseType.HACKBAN, CaseType.TEMPBAN}), frozenset({CaseType.UNBAN})
)
JAILED = Restriction("is_jailed", frozenset({CaseType.JAIL}), frozenset({CaseType.UNJAIL}))
SNIPPET_BANNED = Restriction(
    "is_snippet_banned", frozenset({CaseType.SNIPPETBAN}), frozenset({CaseType.SNIPPETUNBAN})
)
POLL_BANNED = Restriction("is_poll_banned", frozenset({CaseType.POLLBAN}), frozenset({CaseType.POLLUNBAN}))
TIMED_OUT = Restriction(
    "timed_out_until", frozenset({CaseType.TIMEOUT}), frozenset({CaseType.UNTIMEOUT}), timed=True
)

RESTRICTION_OF: Mapping[CaseType, Restriction] = MappingProxyType(
    {
        case_type: restriction
        for restriction in (BANNED, JAILED, SNIPPET_BANNED, POLL_BANNED, TIMED_OUT)
        for case_type in restriction.case_types
    }
)
"""The member-status column each case type changes; KICK and WARN change none."""

EXPIRING_ACTIONS = frozenset({CaseType.TEMPBAN, CaseType.TIMEOUT})
"""Actions that need an ``expires_at`` in the future."""


def audit_action(case_type: CaseType) -> str:
    """Return the audit-log action name of ``case_type`` (``"case.ban"``, ``"case.pollunban"``, ...)."""
    return f"case.{case_type.value.lower()}"


@dataclass(frozen=True, slots=True)
class CaseRequest:
    """The validated inputs of one moderation action."""

    action: CaseType
    guild_id: int
    user_id: int
    moderator_id: int
    reason: str
    expires_at: datetime | None = None
    role_ids: tuple[int, ...] = ()


def case_request(
    action: CaseType,
    guild_id: object,
    user_id: object,
    reason: object,
    moderator_id: object,
    *,
    expires_at: datetime | None = None,
    role_ids: Sequence[int] = (),
) -> CaseRequest:
    """Check the inputs of ``action`` and bundle them; raise :class:`ValidationError` on bad input."""
    if action in EXPIRING_ACTIONS:
        expires_at = future_datetime("expires_at", expires_at)
    elif expires_at is not None:
        raise ValidationError(f"expires_at: {action.value} cases do not expire")
    return CaseRequest(
        action=action,
        guild_id=positive_id("guild_id", guild_id),
        user_id=positive_id("user_id", user_id),
        moderator_id=positive_id("moderator_id", moderator_id),
        reason=checked_reason("reason", reason),
        expires_at=expires_at,
        role_ids=checked_role_ids(role_ids),
    )


def positive_id(name: str, value: object) -> int:
    """Return ``value`` if it is a snowflake-sized positive integer (``bool`` is refused)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{name}: expected an integer, got {type(value).__name__}")
    if not 0 < value <= INT64_MAX:
        raise ValidationError(f"{name}: {value} is not a positive 64-bit integer")
    return value


def checked_reason(name: str, value: object) -> str:
    """Return ``value`` if it is non-blank text of at most :data:`MAX_REASON_LENGTH` characters."""
    if not isinstance(value, str):
        raise ValidationError(f"{name}: expected text, got {type(value).__name__}")
    if not value.strip():
        raise ValidationError(f"{name}: must not be empty")
    if len(value) > MAX_REASON_LENGTH:
        raise ValidationError(f"{name}: {len(value)} characters exceed the limit of {MAX_REASON_LENGTH}")
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(f"{name}: text {problem}")
    return value


def aware_datetime(name: str, value: object) -> datetime:
    """Return ``value`` if it is a timezone-aware datetime (a naive one is ambiguous)."""
    if not isinstance(value, datetime):
        raise ValidationError(f"{name}: expected a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(f"{name}: naive datetime; pass an aware (UTC) datetime")
    return value


def future_datetime(name: str, value: object) -> datetime:
    """Return ``value`` if it is an aware datetime later than now."""
    moment = aware_datetime(name, value)
    if moment <= utcnow():
        raise ValidationError(f"{name}: {moment.isoformat()} is not in the future")
    return moment


def checked_role_ids(role_ids: object) -> tuple[int, ...]:
    """Return the role ids as a tuple, in order, without duplicates."""
    if isinstance(role_ids, (str, bytes)) or not isinstance(role_ids, Sequence):
        raise ValidationError("role_ids: expected a list or tuple of role ids")
    if len(role_ids) > MAX_ROLE_IDS:
        raise ValidationError(f"role_ids: at most {MAX_ROLE_IDS} roles are allowed")
    return tuple(dict.fromkeys(positive_id("role_ids", role_id) for role_id in role_ids))


def batch_size(value: object) -> int:
    """Return ``value`` if it is a page size the repositories accept (1 to ``MAX_PAGE_SIZE``)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_PAGE_SIZE:
        raise ValidationError(f"limit: expected an integer between 1 and {MAX_PAGE_SIZE}")
    return value
