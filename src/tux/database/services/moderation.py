"""``ModerationService``: every moderation action as one atomic unit of work.

An action allocates the guild's next case number, inserts the case, updates the member's status and
appends an audit entry in one transaction, retried whole on a serialization failure, deadlock or
locked SQLite database. Case numbers come from ``guild.case_count`` under its row lock, held until the
transaction ends, so they run 1, 2, 3, ... per guild with no duplicate and, since a failed action rolls
the counter back too, no gap.

Which status column an action changes is looked up in :mod:`~tux.database.services.moderation_rules`;
voiding a case and expiring a tempban recompute that column from the member's newest remaining active
case of the same type pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from loguru import logger

from tux.database.exceptions import ConflictError, NotFoundError
from tux.database.models import Case, CaseStatus, CaseType, MemberStatus, utcnow
from tux.database.repositories.interfaces import (
    IAuditLogRepository,
    ICaseRepository,
    IMemberStatusRepository,
)
from tux.database.services.moderation_rules import (
    BANNED,
    JAILED,
    POLL_BANNED,
    RESTRICTION_OF,
    SNIPPET_BANNED,
    CaseRequest,
    Restriction,
    StatusValue,
    audit_action,
    aware_datetime,
    batch_size,
    case_request,
    checked_reason,
    positive_id,
)
from tux.database.transactions.patterns import TransactionManager


class ModerationService:
    """Moderation actions, case voiding, tempban expiry and restriction checks.

    Parameters
    ----------
    transactions
        Opens the unit of work each operation runs in.
    cases, member_status, audit_log
        The repositories the operations write through; they must draw sessions from the same
        provider as ``transactions`` so that their calls join its unit of work.
    """

    def __init__(
        self,
        transactions: TransactionManager,
        *,
        cases: ICaseRepository,
        member_status: IMemberStatusRepository,
        audit_log: IAuditLogRepository,
    ) -> None:
        self._transactions = transactions
        self._cases = cases
        self._member_status = member_status
        self._audit_log = audit_log

    # Actions: each returns the new case.

    async def ban_user(self, guild_id: int, user_id: int, reason: str, moderator_id: int) -> Case:
        """Record a ban; the member becomes banned."""
        return await self._apply(CaseType.BAN, guild_id, user_id, reason, moderator_id)

    async def unban_user(self, guild_id: int, user_id: int, reason: str, moderator_id: int) -> Case:
        """Record an unban; the member is no longer banned."""
        return await self._apply(CaseType.UNBAN, guild_id, user_id, reason, moderator_id)

    async def hackban_user(self, guild_id: int, user_id: int, reason: str, moderator_id: int) -> Case:
        """Record a ban of a user who is not in the guild; the member becomes banned."""
        return await self._apply(CaseType.HACKBAN, guild_id, user_id, reason, moderator_id)

    async def tempban_user(
        self, guild_id: int, user_id: int, reason: str, moderator_id: int, expires_at: datetime
    ) -> Case:
        """Record a ban lifted by :meth:`process_expired_tempbans` once ``expires_at`` has passed."""
        return await self._apply(
            CaseType.TEMPBAN, guild_id, user_id, reason, moderator_id, expires_at=expires_at
        )

    async def kick_user(self, guild_id: int, user_id: int, reason: str, moderator_id: int) -> Case:
        """Record a kick; no status changes."""
        return await self._apply(CaseType.KICK, guild_id, user_id, reason, moderator_id)

    async def warn_user(self, guild_id: int, user_id: int, reason: str, moderator_id: int) -> Case:
        """Record a warning; no status changes."""
        return await self._apply(CaseType.WARN, guild_id, user_id, reason, moderator_id)

    async def timeout_user(
        self, guild_id: int, user_id: int, reason: str, moderator_id: int, expires_at: datetime
    ) -> Case:
        """Record a timeout; the member's ``timed_out_until`` becomes ``expires_at``."""
        return await self._apply(
            CaseType.TIMEOUT, guild_id, user_id, reason, moderator_id, expires_at=expires_at
        )

    async def untimeout_user(self, guild_id: int, user_id: int, reason: str, moderator_id: int) -> Case:
        """Record the end of a timeout; ``timed_out_until`` is cleared."""
        return await self._apply(CaseType.UNTIMEOUT, guild_id, user_id, reason, moderator_id)

    async def jail_user(
        self, guild_id: int, user_id: int, reason: str, moderator_id: int, role_ids: Sequence[int]
    ) -> Case:
        """Record a jail, keeping the member's current ``role_ids`` so that unjail can give them back."""
        return await self._apply(CaseType.JAIL, guild_id, user_id, reason, moderator_id, role_ids=role_ids)

    async def unjail_user(
        self, guild_id: int, user_id: int, reason: str, moderator_id: int
    ) -> tuple[Case, list[int]]:
        """Record an unjail and return it with the role ids to restore.

        The roles are those kept by the member's latest active JAIL case, provided no UNJAIL came after
        it (otherwise none); the UNJAIL case stores them too, as the record of what was given back.
        """
        case = await self._apply(CaseType.UNJAIL, guild_id, user_id, reason, moderator_id)
        return case, list(case.case_user_roles)

    async def snippetban_user(self, guild_id: int, user_id: int, reason: str, moderator_id: int) -> Case:
        """Record a snippet ban; the member may no longer create snippets."""
        return await self._apply(CaseType.SNIPPETBAN, guild_id, user_id, reason, moderator_id)

    async def snippetunban_user(self, guild_id: int, user_id: int, reason: str, moderator_id: int) -> Case:
        """Record the end of a snippet ban."""
        return await self._apply(CaseType.SNIPPETUNBAN, guild_id, user_id, reason, moderator_id)

    async def pollban_user(self, guild_id: int, user_id: int, reason: str, moderator_id: int) -> Case:
        """Record a poll ban; the member may no longer create polls."""
        return await self._apply(CaseType.POLLBAN, guild_id, user_id, reason, moderator_id)

    async def pollunban_user(self, guild_id: int, user_id: int, reason: str, moderator_id: int) -> Case:
        """Record the end of a poll ban."""
        return await self._apply(CaseType.POLLUNBAN, guild_id, user_id, reason, moderator_id)

    # Compensation and expiry.

    async def void_case(self, guild_id: int, case_number: int, reason: str, moderator_id: int) -> Case:
        """Mark a case void and restore the member status it had changed.

        This is the compensation when the Discord side of an action failed after its case was
        recorded: the case stays in history with ``reason``, and the status column it set is
        recomputed from the member's newest remaining active case of the same pair.

        Raises
        ------
        NotFoundError
            The guild has no case ``case_number``.
        ConflictError
            The case is already void (also what the loser of two concurrent voids gets).
        """
        guild = positive_id("guild_id", guild_id)
        number = positive_id("case_number", case_number)
        void_reason = checked_reason("reason", reason)
        moderator = positive_id("moderator_id", moderator_id)
        case = await self._transactions.execute_in_transaction(
            lambda: self._void(guild, number, void_reason, moderator), name="moderation.void_case"
        )
        logger.info("moderation: case #{} of guild {} voided by {}", number, guild, moderator)
        return case

    async def process_expired_tempbans(self, now: datetime | None = None, limit: int = 100) -> list[Case]:
        """Claim up to ``limit`` tempbans due at ``now`` (default: the current time) and lift them.

        Every due tempban is claimed (marked processed) exactly once, even with several bot processes
        running this loop, and gets a ``case.tempban_expired`` audit entry attributed to the moderator
        who issued it (``details.lifted`` tells whether it lifted the ban). Returned are the tempbans
        whose expiry lifted the ban, i.e. the members to unban on Discord. A claimed tempban that was
        voided, or that a newer ban-type case superseded (a permanent ban after it, say), is marked
        processed but not returned, so the bot never unbans someone another case keeps banned. A loop
        that drains the backlog should therefore stop on a short page only after a later call returns
        nothing.
        """
        due = utcnow() if now is None else aware_datetime("now", now)
        size = batch_size(limit)
        lifted = await self._transactions.execute_in_transaction(
            lambda: self._expire_tempbans(due, size), name="moderation.process_expired_tempbans"
        )
        if lifted:
            logger.info("moderation: {} expired tempban(s) lifted", len(lifted))
        return lifted

    # Restriction checks: one primary-key read of member_status each.

    async def is_banned(self, guild_id: int, user_id: int) -> bool:
        """Return whether the member is banned (by a ban, hackban or unexpired tempban)."""
        return await self._flag(guild_id, user_id, BANNED)

    async def is_jailed(self, guild_id: int, user_id: int) -> bool:
        """Return whether the member is jailed."""
        return await self._flag(guild_id, user_id, JAILED)

    async def is_snippet_banned(self, guild_id: int, user_id: int) -> bool:
        """Return whether the member may not create snippets."""
        return await self._flag(guild_id, user_id, SNIPPET_BANNED)

    async def is_poll_banned(self, guild_id: int, user_id: int) -> bool:
        """Return whether the member may not create polls."""
        return await self._flag(guild_id, user_id, POLL_BANNED)

    async def timed_out_until(self, guild_id: int, user_id: int) -> datetime | None:
        """Return the end of the member's last timeout, ``None`` if none applies.

        The time is kept as recorded and may lie in the past; compare it with the current time.
        """
        status = await self._status(guild_id, user_id)
        return None if status is None else status.timed_out_until

    # The shared machinery.

    async def _apply(
        self,
        action: CaseType,
        guild_id: int,
        user_id: int,
        reason: str,
        moderator_id: int,
        *,
        expires_at: datetime | None = None,
        role_ids: Sequence[int] = (),
    ) -> Case:
        """Validate, then record ``action`` in one retried transaction named ``moderation.<action>``."""
        request = case_request(
            action, guild_id, user_id, reason, moderator_id, expires_at=expires_at, role_ids=role_ids
        )
        case = await self._transactions.execute_in_transaction(
            lambda: self._record(request), name=f"moderation.{action.value.lower()}"
        )
        logger.info(
            "moderation: case #{} {} in guild {} against {} by {}",
            case.case_number,
            action.value,
            request.guild_id,
            request.user_id,
            request.moderator_id,
        )
        return case

    async def _record(self, request: CaseRequest) -> Case:
        """Number, insert and apply one case, and audit it; runs inside the action's transaction."""
        number = await self._cases.get_next_case_number(request.guild_id)
        role_ids = request.role_ids
        if request.action == CaseType.UNJAIL:
            role_ids = tuple(await self._roles_to_restore(request.guild_id, request.user_id))
        case = await self._cases.create(
            {
                "guild_id": request.guild_id,
                "case_number": number,
                "case_type": request.action,
                "case_reason": request.reason,
                "case_moderator_id": request.moderator_id,
                "case_user_id": request.user_id,
                "case_user_roles": list(role_ids),
                "case_expires_at": request.expires_at,
            }
        )
        restriction = RESTRICTION_OF.get(request.action)
        if restriction is not None:
            await self._member_status.set_status(
                request.guild_id, request.user_id, {restriction.field: restriction.value_after(case)}
            )
        details: dict[str, object] = {"case_number": number, "case_type": request.action.value}
        if request.expires_at is not None:
            details["expires_at"] = request.expires_at.isoformat()
        if role_ids:
            details["role_ids"] = list(role_ids)
        await self._audit_log.append(
            request.guild_id,
            request.moderator_id,
            audit_action(request.action),
            target_id=request.user_id,
            case_id=case.id,
            details=details,
        )
        return case

    async def _void(self, guild_id: int, case_number: int, reason: str, moderator_id: int) -> Case:
        case = await self._cases.void(guild_id, case_number, reason, utcnow())
        if case is None:
            if await self._cases.find_by_guild_and_number(guild_id, case_number) is None:
                raise NotFoundError(f"guild {guild_id} has no case #{case_number}")
            raise ConflictError(f"case #{case_number} of guild {guild_id} is already void")
        details: dict[str, object] = {
            "case_number": case_number,
            "case_type": case.case_type.value,
            "reason": reason,
        }
        restriction = RESTRICTION_OF.get(case.case_type)
        if restriction is not None:
            _, value = await self._resync(guild_id, case.case_user_id, restriction)
            details["restored"] = {restriction.field: _json_value(value)}
        await self._audit_log.append(
            guild_id, moderator_id, "case.void", target_id=case.case_user_id, case_id=case.id, details=details
        )
        return case

    async def _expire_tempbans(self, now: datetime, limit: int) -> list[Case]:
        claimed = await self._cases.claim_expired_tempbans(now, limit)
        deciding: set[int] = set()
        # Members in a fixed order, so two workers whose batches share members lock them alike.
        for guild_id, user_id in sorted({(case.guild_id, case.case_user_id) for case in claimed}):
            latest, _ = await self._resync(guild_id, user_id, BANNED)
            if latest is not None:
                deciding.add(latest.id)
        for case in claimed:
            await self._audit_log.append(
                case.guild_id,
                case.case_moderator_id,
                "case.tempban_expired",
                target_id=case.case_user_id,
                case_id=case.id,
                details={"case_number": case.case_number, "lifted": case.id in deciding},
            )
        # The newest active ban-type case of the member is this (now processed) tempban: it was lifted.
        return [case for case in claimed if case.id in deciding]

    async def _resync(
        self, guild_id: int, user_id: int, restriction: Restriction
    ) -> tuple[Case | None, StatusValue]:
        """Set ``restriction``'s column from the member's newest active case of its pair.

        The column is written first only to take the member's row lock: an action or void on the same
        member has then either committed, so its case is visible to the read that follows, or waits
        and writes its own value after ours. Both leave the value the newest case implies; reading
        before locking could overwrite a concurrent action's value with a stale one.
        """
        cleared = {restriction.field: restriction.cleared}
        await self._member_status.set_status(guild_id, user_id, cleared)
        latest = await self._latest_active(guild_id, user_id, restriction.case_types)
        value = restriction.value_after(latest)
        if value != restriction.cleared:
            await self._member_status.set_status(guild_id, user_id, {restriction.field: value})
        return latest, value

    async def _latest_active(
        self, guild_id: int, user_id: int, case_types: Sequence[CaseType]
    ) -> Case | None:
        rows = await self._cases.find_all(
            guild_id=guild_id,
            case_user_id=user_id,
            case_type__in=list(case_types),
            case_status=CaseStatus.ACTIVE,
            order_by="-case_number",
            limit=1,
        )
        return rows[0] if rows else None

    async def _roles_to_restore(self, guild_id: int, user_id: int) -> list[int]:
        latest = await self._latest_active(guild_id, user_id, JAILED.case_types)
        if latest is None or latest.case_type != CaseType.JAIL:
            return []
        return list(latest.case_user_roles)

    async def _flag(self, guild_id: int, user_id: int, restriction: Restriction) -> bool:
        status = await self._status(guild_id, user_id)
        return status is not None and bool(getattr(status, restriction.field))

    async def _status(self, guild_id: int, user_id: int) -> MemberStatus | None:
        return await self._member_status.get_status(
            positive_id("guild_id", guild_id), positive_id("user_id", user_id)
        )


def _json_value(value: StatusValue) -> bool | str | None:
    """Return a status value as JSON can store it (datetimes as ISO 8601)."""
    return value.isoformat() if isinstance(value, datetime) else value
