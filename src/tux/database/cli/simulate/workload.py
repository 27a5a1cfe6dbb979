"""The events a simulation replays: chat messages and the commands that come with them.

One seeded generator yields the same global sequence in every process; process ``k`` of ``n`` handles
events ``k, k + n, k + 2n, ...``, so ``--seed`` fixes what happens whatever the number of processes.
Guilds and members are picked by a Zipf law (a few busy guilds, a few chatty members), as on Discord.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum

from tux.database.cli.simulate.config import SimulationConfig

ZIPF_EXPONENT = 1.1
GUILD_BASE = 900_000_000_000_000_000
MEMBER_BASE = 800_000_000_000_000_000
CHANNEL_BASE = 700_000_000_000_000_000
MESSAGE_BASE = 600_000_000_000_000_000
MODERATOR_ID = 500_000_000_000_000_001
ROLE_ID = 400_000_000_000_000_001
SNIPPETS_PER_GUILD = 10
STARRED_PER_GUILD = 20
CHANNELS_PER_GUILD = 5
MEMBER_STRIDE = 1_000_000
"""Member ids of guild ``g`` are ``MEMBER_BASE + g * MEMBER_STRIDE + m``: unique across guilds."""


class Command(StrEnum):
    """What a member does besides chatting; the value is the operation name in the report."""

    SNIPPET_GET = "snippet.get"
    SNIPPET_CREATE = "snippet.create"
    STARBOARD_REACT = "starboard.react"
    CONFIG_READ = "config.read"
    CONFIG_CHANGE = "config.change"
    MODERATE = "moderation"
    LEADERBOARD = "levels.leaderboard"
    RANK = "levels.rank"
    REMINDER_CREATE = "reminder.create"
    AFK_SET = "afk.set"


COMMAND_RATES: dict[Command | None, float] = {
    Command.SNIPPET_GET: 0.08,
    Command.STARBOARD_REACT: 0.04,
    Command.CONFIG_READ: 0.03,
    Command.MODERATE: 0.03,
    Command.LEADERBOARD: 0.01,
    Command.RANK: 0.01,
    Command.SNIPPET_CREATE: 0.01,
    Command.REMINDER_CREATE: 0.01,
    Command.AFK_SET: 0.01,
    Command.CONFIG_CHANGE: 0.003,
}
"""Share of chat messages followed by each command; the rest (``None``) are plain chat."""
COMMAND_RATES[None] = 1.0 - sum(COMMAND_RATES.values())

MODERATION_ACTIONS: dict[str, float] = {
    "warn": 0.30,
    "timeout": 0.12,
    "kick": 0.10,
    "tempban": 0.12,
    "ban": 0.06,
    "unban": 0.04,
    "jail": 0.08,
    "unjail": 0.06,
    "snippetban": 0.04,
    "snippetunban": 0.04,
    "pollban": 0.02,
    "untimeout": 0.02,
}

VIRTUAL_SECONDS_PER_EVENT = 2.0
"""Spacing of the messages' own clock (``now`` of the XP cooldown): about 30 messages a minute."""


@dataclass(frozen=True, slots=True)
class Event:
    """One chat message, and the command its author runs after it (if any)."""

    index: int
    guild: int
    member: int
    channel: int
    mentions: tuple[int, ...]
    command: Command | None
    action: str
    target: int
    pick: int
    """Which snippet, starred message or setting the command uses."""
    flag: bool
    """A coin toss the command uses (star or unstar, alias or snippet, ...)."""


def zipf_weights(count: int, exponent: float = ZIPF_EXPONENT) -> list[float]:
    """Return cumulative Zipf weights of ranks ``1..count`` (for :meth:`random.Random.choices`)."""
    return list(itertools.accumulate(1.0 / (rank**exponent) for rank in range(1, count + 1)))


def _cumulative(weights: Sequence[float]) -> list[float]:
    return list(itertools.accumulate(weights))


class Workload:
    """The seeded event stream of one configuration, and the Discord ids it uses."""

    def __init__(self, config: SimulationConfig) -> None:
        self.config = config
        self._guild_weights = zipf_weights(config.guilds)
        self._member_weights = zipf_weights(config.members)
        self._snippet_weights = zipf_weights(SNIPPETS_PER_GUILD + 2)
        self._commands = list(COMMAND_RATES)
        self._command_weights = _cumulative(list(COMMAND_RATES.values()))
        self._actions = list(MODERATION_ACTIONS)
        self._action_weights = _cumulative(list(MODERATION_ACTIONS.values()))

    def guild_id(self, guild: int) -> int:
        """Return the Discord id of guild index ``guild``."""
        return GUILD_BASE + guild

    def member_id(self, guild: int, member: int) -> int:
        """Return the Discord id of member index ``member`` of guild index ``guild``."""
        return MEMBER_BASE + guild * MEMBER_STRIDE + member

    def channel_id(self, guild: int, channel: int) -> int:
        """Return the Discord id of channel index ``channel`` of guild index ``guild``."""
        return CHANNEL_BASE + guild * MEMBER_STRIDE + channel

    def starred_message_id(self, guild: int, pick: int) -> int:
        """Return the id of the ``pick``-th starred message of guild index ``guild``."""
        return MESSAGE_BASE + guild * MEMBER_STRIDE + pick % STARRED_PER_GUILD

    @staticmethod
    def snippet_name(pick: int) -> str:
        """Return the name of the ``pick``-th seeded snippet (two past the end never exist)."""
        return f"tip-{pick}"

    def events(self, shard: int = 0, shards: int = 1) -> Iterator[Event]:
        """Yield this shard's events: all of them up to ``messages``, or without end with ``duration``."""
        rng = random.Random(self.config.seed)
        limit = None if self.config.duration is not None else self.config.messages
        for index in itertools.count() if limit is None else range(limit):
            event = self._next(rng, index)
            if index % shards == shard:
                yield event

    def _next(self, rng: random.Random, index: int) -> Event:
        config = self.config
        guild = rng.choices(range(config.guilds), cum_weights=self._guild_weights)[0]
        member = rng.choices(range(config.members), cum_weights=self._member_weights)[0]
        mention_count = rng.choices((0, 1, 2), cum_weights=(0.8, 0.95, 1.0))[0]
        mentions = tuple(
            rng.choices(range(config.members), cum_weights=self._member_weights, k=mention_count)
        )
        command = rng.choices(self._commands, cum_weights=self._command_weights)[0]
        return Event(
            index=index,
            guild=guild,
            member=member,
            channel=rng.randrange(CHANNELS_PER_GUILD),
            mentions=mentions,
            command=command,
            action=rng.choices(self._actions, cum_weights=self._action_weights)[0],
            target=rng.randrange(config.members),
            pick=rng.choices(range(SNIPPETS_PER_GUILD + 2), cum_weights=self._snippet_weights)[0],
            flag=rng.random() < 0.8,
        )
