"""A shard cluster in its own OS process, as a bot runs one process per cluster."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import discord
from discord.ext import commands

from tests.conftest import REDIS_URL, STEADY_CACHE
from tests.ext.standins import Channel, Guild, Member, Message
from tux.database import Database
from tux.database.ext.discord import DatabaseMixin, database_prefix

DEFAULT_PREFIX = "$"
GUILD = 111_111_111_111_111_111
USER = 333_333_333_333_333_333


class ClusterBot(DatabaseMixin, commands.AutoShardedBot):
    """One shard cluster: this process runs some of the bot's shards."""


def cluster(database: Database, shard: int) -> ClusterBot:
    """Return the cluster running shard ``shard`` of two, not logged in."""
    return ClusterBot(
        command_prefix=database_prefix(DEFAULT_PREFIX),
        intents=discord.Intents.none(),
        database=database,
        shard_ids=[shard],
        shard_count=2,
    )


def cluster_database(database_url: str, namespace: str) -> Database:
    """The Database one cluster process holds: the shared PostgreSQL and Redis, its own memory cache."""
    return Database(database_url, REDIS_URL, redis_namespace=namespace, cache_options=STEADY_CACHE)


def guild_message() -> Message:
    """A message in the test guild (what ``get_prefix`` looks at)."""
    return Message(Guild(GUILD), Member(USER), Channel(1))


def watch_prefix(database_url: str, namespace: str, events: Any, go: Any) -> None:
    """Report the prefix this cluster serves, wait for ``go``, then report when it serves a new one."""
    asyncio.run(_watch(database_url, namespace, events, go))


async def _watch(database_url: str, namespace: str, events: Any, go: Any) -> None:
    bot = cluster(cluster_database(database_url, namespace), 1)
    await bot.setup_hook()
    try:
        message = guild_message()
        first = await bot.get_prefix(message)  # type: ignore[arg-type]
        events.put(("ready", first, await bot.get_prefix(message)))  # type: ignore[arg-type]
        await asyncio.to_thread(go.get, True, 30)
        deadline = time.monotonic() + 5
        while (served := await bot.get_prefix(message)) == first:  # type: ignore[arg-type]
            if time.monotonic() > deadline:
                break
        events.put(("served", served))
    finally:
        await bot.db.close()
