"""``LevelsService``: XP for chat messages, admin XP changes, leaderboard and rank.

A chat message costs one query when it earns nothing (inside the cooldown, blacklisted member or
channel, levelling off) and two when it earns XP: the decision read and the gated upsert of
:class:`~tux.database.repositories.levels_activity.LevelsActivityRepository`. Behind the cache the
decision read (the member's :class:`~tux.database.repositories.records.MessageState`) is served from
memory until the member's next award or a change of the guild's levelling setup, so a message inside
the cooldown costs no query and an award one. A level-up adds the level
write and the role-reward read. The read's cooldown check only saves the write; the upsert's ``WHERE``
is what guarantees that concurrent messages of one member inside one cooldown award XP once.

Levels follow Tux's curve (:mod:`tux.database.services.levels_formula`); the stored ``level`` is
rewritten whenever XP changes through this service, so it always matches the XP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from tux.database.models import Levels, utcnow
from tux.database.repositories.interfaces import (
    ILevelsActivityRepository,
    ILevelsConfigRepository,
    ILevelsRepository,
)
from tux.database.repositories.levels_activity import message_ids
from tux.database.repositories.records import MessageContext
from tux.database.repositories.support import checked_required
from tux.database.services.levels_formula import level_for_xp
from tux.database.transactions.patterns import TransactionManager


@dataclass(frozen=True, slots=True)
class MessageXpResult:
    """What one chat message did to the member's XP.

    ``role_rewards_to_apply`` is empty unless the member levelled up; then it holds every reward role
    for levels up to the new level, lowest level first, not only the newly reached ones: adding a role
    the member already has is a no-op for Discord, and this restores rewards configured after the
    member had passed their level. Without an award, ``total_xp`` and ``level`` are as read just before.
    """

    xp_awarded: float
    total_xp: float
    level: int
    previous_level: int
    role_rewards_to_apply: tuple[int, ...] = ()

    @property
    def level_up(self) -> bool:
        """Whether this message moved the member to a higher level."""
        return self.level > self.previous_level


def _earns_xp(context: MessageContext, now: datetime) -> bool:
    """Whether the read says the message may earn XP (the upsert re-checks the member part atomically)."""
    if not context.enabled or context.channel_blacklisted or context.member_blacklisted:
        return False
    last = context.last_message
    return last is None or last <= now - timedelta(seconds=context.cooldown_seconds)


def _unchanged(context: MessageContext) -> MessageXpResult:
    return MessageXpResult(
        xp_awarded=0.0, total_xp=context.xp, level=context.level, previous_level=context.level
    )


class LevelsService:
    """Chat XP, XP overrides, leaderboard and rank of members.

    Parameters
    ----------
    transactions
        Opens the unit of work of each write.
    levels
        Members' XP rows (overrides, leaderboard, rank).
    levels_config
        The guild's role rewards.
    activity
        The per-message decision read, gated award and level write.
    """

    def __init__(
        self,
        transactions: TransactionManager,
        *,
        levels: ILevelsRepository,
        levels_config: ILevelsConfigRepository,
        activity: ILevelsActivityRepository,
    ) -> None:
        self._transactions = transactions
        self._levels = levels
        self._levels_config = levels_config
        self._activity = activity

    async def process_message(
        self,
        guild_id: int,
        member_id: int,
        channel_id: int,
        role_ids: Sequence[int],
        now: datetime | None = None,
    ) -> MessageXpResult:
        """Award the XP a chat message earns, and report a level-up with its role rewards.

        The message earns ``base_xp`` times the highest multiplier among ``role_ids`` (1.0 when none
        has one), unless levelling is off, the channel or the member is blacklisted, or the member's
        last rewarded message is less than the guild's cooldown before ``now``.

        Raises
        ------
        ValidationError
            On a naive ``now`` or an id that is not a positive 64-bit integer.
        """
        moment: datetime = utcnow() if now is None else checked_required(Levels, "last_message", now)
        guild, member, channel, roles = message_ids(guild_id, member_id, channel_id, role_ids)
        state = await self._activity.message_state(guild_id=guild, member_id=member)
        context = state.context_for(channel, roles)
        if not _earns_xp(context, moment):
            return _unchanged(context)
        amount = context.base_xp * context.multiplier

        async def operation() -> MessageXpResult:
            award = await self._activity.award_if_cooled_down(
                guild_id=guild_id,
                member_id=member_id,
                amount=amount,
                now=moment,
                cooldown_seconds=context.cooldown_seconds,
                create_guild=not context.guild_known,
            )
            if award is None:
                return _unchanged(context)
            level = level_for_xp(award.xp)
            if level != award.stored_level:
                await self._activity.store_level(guild_id=guild_id, member_id=member_id, level=level)
            return MessageXpResult(
                xp_awarded=amount, total_xp=award.xp, level=level, previous_level=award.stored_level
            )

        result = await self._transactions.execute_in_transaction(operation, name="levels.process_message")
        if not result.level_up:
            return result
        # read after the commit, so behind the cache it is served from there
        return replace(result, role_rewards_to_apply=await self._rewards_up_to(guild_id, result.level))

    async def set_xp(self, guild_id: int, member_id: int, xp: float) -> Levels:
        """Set the member's XP and the level it implies, creating the row if needed.

        Raises
        ------
        ValidationError
            If ``xp`` is not a finite number >= 0.
        """
        level = level_for_xp(xp)

        async def operation() -> Levels:
            return await self._levels.set_xp(guild_id=guild_id, member_id=member_id, xp=xp, level=level)

        return await self._transactions.execute_in_transaction(operation, name="levels.set_xp")

    async def reset_xp(self, guild_id: int, member_id: int) -> Levels:
        """Set the member back to 0 XP and level 0."""
        return await self.set_xp(guild_id, member_id, 0.0)

    async def leaderboard(
        self, guild_id: int, *, limit: int = 10, after: tuple[float, int] | None = None
    ) -> list[Levels]:
        """Return the guild's top members by XP (see :meth:`ILevelsRepository.leaderboard`)."""
        return await self._levels.leaderboard(guild_id, limit=limit, after=after)

    async def rank(self, guild_id: int, member_id: int) -> int | None:
        """Return the member's 1-based leaderboard position, ``None`` if absent or blacklisted."""
        return await self._levels.rank(guild_id=guild_id, member_id=member_id)

    async def _rewards_up_to(self, guild_id: int, level: int) -> tuple[int, ...]:
        """Return the reward role ids of every level up to ``level``, lowest level first, once each."""
        rewards = await self._levels_config.role_rewards(guild_id)
        return tuple(dict.fromkeys(reward.role_id for reward in rewards if reward.level <= level))
