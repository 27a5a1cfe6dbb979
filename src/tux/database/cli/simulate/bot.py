"""What the simulated bot does with each event, through the services as Tux's cogs would.

Everything the invariants check later is written down in a :class:`Ledger` as it happens: the XP each
message was awarded, the snippet uses handed out, the tempbans and reminders each loop claimed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from tux.database.cli.simulate.recorder import Recorder
from tux.database.cli.simulate.workload import (
    MODERATOR_ID,
    ROLE_ID,
    STARRED_PER_GUILD,
    VIRTUAL_SECONDS_PER_EVENT,
    Command,
    Event,
    Workload,
)
from tux.database.facade import Database

TIMED_SECONDS = (0.3, 4.0)
"""Tempbans, timeouts and reminders expire this many seconds (range) after they are made."""
PREFIXES = ("$", "!", "?", "tux ")


@dataclass(slots=True)
class Ledger:
    """What the workload did, to compare with what the database holds at the end."""

    xp_awarded: dict[int, float] = field(default_factory=dict)
    """XP awarded per guild id (sum of ``xp_awarded`` of every processed message)."""
    snippet_gets: Counter[int] = field(default_factory=Counter)
    """Successful snippet gets per guild id (each counts one use)."""
    lifted_tempbans: list[int] = field(default_factory=list)
    """Case ids the tempban loops returned as lifted."""
    claimed_reminders: list[int] = field(default_factory=list)
    """Reminder ids the due-reminder loops claimed."""

    def award(self, guild_id: int, xp: float) -> None:
        """Count ``xp`` awarded in ``guild_id``."""
        self.xp_awarded[guild_id] = self.xp_awarded.get(guild_id, 0.0) + xp

    def merge(self, other: Ledger) -> None:
        """Add another process's ledger."""
        for guild_id, xp in other.xp_awarded.items():
            self.award(guild_id, xp)
        self.snippet_gets.update(other.snippet_gets)
        self.lifted_tempbans.extend(other.lifted_tempbans)
        self.claimed_reminders.extend(other.claimed_reminders)


class Bot:
    """One simulated bot process: handles events and runs the background loops."""

    def __init__(self, db: Database, workload: Workload, recorder: Recorder, started: datetime) -> None:
        self.db = db
        self.workload = workload
        self.recorder = recorder
        self.ledger = Ledger()
        self._started = started

    async def handle(self, event: Event) -> None:
        """Handle one chat message, then the command that follows it."""
        with self.recorder.tally() as counted:
            await self._chat(event)
        chat = self.recorder.chat
        chat.messages += 1
        chat.data_statements += counted.data
        chat.round_trips += counted.total
        if event.command is not None:
            await self._command(event, event.command)
        self.recorder.completed += 1

    async def _chat(self, event: Event) -> None:
        db, time = self.db, self.recorder.time
        guild_id = self.workload.guild_id(event.guild)
        member_id = self.workload.member_id(event.guild, event.member)
        await time("chat.prefix", lambda: db.guild_configs.get_prefix(guild_id))
        own = await time("chat.afk_self", lambda: db.afk_service.get_afk(guild_id, member_id))
        if own is not None and not own.perm_afk:
            await time("afk.clear", lambda: db.afk_service.clear_afk(guild_id, member_id))
        for mentioned in event.mentions:
            mention_id = self.workload.member_id(event.guild, mentioned)
            await time("chat.afk_mention", partial(db.afk_service.get_afk, guild_id, mention_id))
        now = self._started + timedelta(seconds=event.index * VIRTUAL_SECONDS_PER_EVENT)
        channel_id = self.workload.channel_id(event.guild, event.channel)
        result = await time(
            "chat.xp",
            lambda: db.levels_service.process_message(guild_id, member_id, channel_id, (ROLE_ID,), now=now),
        )
        if result is not None and result.xp_awarded:
            self.ledger.award(guild_id, result.xp_awarded)

    async def _command(self, event: Event, command: Command) -> None:
        db, time = self.db, self.recorder.time
        guild_id = self.workload.guild_id(event.guild)
        member_id = self.workload.member_id(event.guild, event.member)
        match command:
            case Command.SNIPPET_GET:
                name = self.workload.snippet_name(event.pick)
                found = await time(command, lambda: db.snippet_service.get(guild_id, name))
                if found is not None:
                    self.ledger.snippet_gets[guild_id] += 1
            case Command.SNIPPET_CREATE:
                await time(
                    command,
                    lambda: db.snippet_service.create(
                        guild_id, f"s{event.index}", "made in a run", member_id
                    ),
                )
            case Command.STARBOARD_REACT:
                message_id = self.workload.starred_message_id(event.guild, event.pick % STARRED_PER_GUILD)
                delta = 1 if event.flag else -1
                await time(
                    command,
                    lambda: db.starboard_messages.change_stars(
                        message_id=message_id, guild_id=guild_id, delta=delta
                    ),
                )
            case Command.CONFIG_READ:
                await time(command, lambda: db.guild_configs.get_moderation_settings(guild_id))
            case Command.CONFIG_CHANGE:
                prefix = PREFIXES[event.pick % len(PREFIXES)]
                await time(command, lambda: db.guild_configs.upsert_config(guild_id, {"prefix": prefix}))
            case Command.MODERATE:
                await self._moderate(event, guild_id)
            case Command.LEADERBOARD:
                await time(command, lambda: db.levels_service.leaderboard(guild_id, limit=10))
            case Command.RANK:
                await time(command, lambda: db.levels_service.rank(guild_id, member_id))
            case Command.REMINDER_CREATE:
                expires = _soon(event)
                channel_id = self.workload.channel_id(event.guild, event.channel)
                await time(
                    command,
                    lambda: db.reminder_service.create(guild_id, member_id, channel_id, "stand up", expires),
                )
            case Command.AFK_SET:
                await time(
                    command,
                    lambda: db.afk_service.set_afk(guild_id, member_id, "nick", "lunch", perm_afk=event.flag),
                )

    async def _moderate(self, event: Event, guild_id: int) -> None:
        moderation, action = self.db.moderation, event.action
        user_id = self.workload.member_id(event.guild, event.target)
        reason = f"simulated {action}"
        name = f"moderation.{action}"
        match action:
            case "tempban":
                expires = _soon(event)
                await self.recorder.time(
                    name, lambda: moderation.tempban_user(guild_id, user_id, reason, MODERATOR_ID, expires)
                )
            case "timeout":
                expires = _soon(event)
                await self.recorder.time(
                    name, lambda: moderation.timeout_user(guild_id, user_id, reason, MODERATOR_ID, expires)
                )
            case "jail":
                await self.recorder.time(
                    name, lambda: moderation.jail_user(guild_id, user_id, reason, MODERATOR_ID, (ROLE_ID,))
                )
            case _:
                apply = getattr(moderation, f"{action}_user")
                await self.recorder.time(name, lambda: apply(guild_id, user_id, reason, MODERATOR_ID))

    async def run_loops_once(self, now: datetime | None = None, limit: int = 100) -> int:
        """Run the tempban-expiry and due-reminder loops once; return how many items they claimed."""
        lifted = await self.recorder.time(
            "loop.tempban_expiry", lambda: self.db.moderation.process_expired_tempbans(now, limit)
        )
        due = await self.recorder.time(
            "loop.due_reminders", lambda: self.db.reminder_service.claim_due(now, limit)
        )
        self.ledger.lifted_tempbans.extend(case.id for case in lifted or ())
        self.ledger.claimed_reminders.extend(reminder.reminder_id for reminder in due or ())
        return len(lifted or ()) + len(due or ())


def _soon(event: Event) -> datetime:
    low, high = TIMED_SECONDS
    return datetime.now(UTC) + timedelta(seconds=low + (high - low) * (event.pick + 1) / 12)
