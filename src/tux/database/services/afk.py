"""``AfkService``: setting, clearing and expiring a member's AFK status, each one unit of work.

Clearing returns the entry it removed, so the cog can restore the nickname it holds; when two callers
clear the same entry at once (the member talks while the expiry loop runs), exactly one gets it back,
because the second ``DELETE`` finds no row.
"""

from __future__ import annotations

from datetime import datetime

from tux.database.exceptions import ValidationError
from tux.database.models import AFK, utcnow
from tux.database.repositories.interfaces import IAfkRepository
from tux.database.repositories.support import checked_required
from tux.database.transactions.patterns import TransactionManager


class AfkService:
    """AFK status of members.

    Parameters
    ----------
    transactions
        Opens the unit of work of each write.
    afk
        The AFK entries.
    """

    def __init__(self, transactions: TransactionManager, *, afk: IAfkRepository) -> None:
        self._transactions = transactions
        self._afk = afk

    async def set_afk(
        self,
        guild_id: int,
        member_id: int,
        nickname: str,
        reason: str,
        *,
        until: datetime | None = None,
        enforced: bool = False,
        perm_afk: bool = False,
        now: datetime | None = None,
    ) -> AFK:
        """Mark the member AFK from ``now``, replacing a previous entry whole.

        ``nickname`` is the one to restore when the AFK ends; ``until`` ends a timed AFK (staff-enforced
        ones usually); ``perm_afk`` keeps the AFK when the member talks, so it cannot also expire.

        Raises
        ------
        ValidationError
            If ``until`` is naive or not after ``now``, if ``perm_afk`` is combined with ``until``, or on
            a field the repository refuses (text too long, NUL, wrong type).
        """
        since: datetime = utcnow() if now is None else checked_required(AFK, "since", now)
        if until is not None and checked_required(AFK, "until", until) <= since:
            raise ValidationError(f"until: must be after the AFK starts ({since.isoformat()})")
        if perm_afk and until is not None:
            raise ValidationError("until: a permanent AFK does not expire")
        data = {
            "guild_id": guild_id,
            "member_id": member_id,
            "nickname": nickname,
            "reason": reason,
            "since": since,
            "until": until,
            "enforced": enforced,
            "perm_afk": perm_afk,
        }

        async def operation() -> AFK:
            return await self._afk.set_afk(data)

        return await self._transactions.execute_in_transaction(operation, name="afk.set")

    async def get_afk(self, guild_id: int, member_id: int) -> AFK | None:
        """Return the member's AFK entry, ``None`` when they are not AFK (one primary-key read)."""
        return await self._afk.find_by_id((member_id, guild_id))

    async def clear_afk(self, guild_id: int, member_id: int) -> AFK | None:
        """Remove the member's AFK entry and return it; ``None`` if there was none to remove."""

        async def operation() -> AFK | None:
            entry = await self._afk.find_by_id((member_id, guild_id))
            if entry is None or not await self._afk.remove(guild_id=guild_id, member_id=member_id):
                return None
            return entry

        return await self._transactions.execute_in_transaction(operation, name="afk.clear")

    async def clear_expired(self, now: datetime | None = None, limit: int = 100) -> list[AFK]:
        """Remove up to ``limit`` timed entries whose ``until`` has passed and return them.

        Each expired entry is returned by exactly one call, also with two loops running at once. An
        entry the member replaces in the same instant as the loop reads it is still removed.

        Raises
        ------
        ValidationError
            If ``now`` is naive or ``limit`` is not a positive integer.
        """
        moment: datetime = utcnow() if now is None else checked_required(AFK, "until", now)

        async def operation() -> list[AFK]:
            removed: list[AFK] = []
            for entry in await self._afk.find_expired(moment, limit):
                if await self._afk.remove(guild_id=entry.guild_id, member_id=entry.member_id):
                    removed.append(entry)
            return removed

        return await self._transactions.execute_in_transaction(operation, name="afk.clear_expired")
