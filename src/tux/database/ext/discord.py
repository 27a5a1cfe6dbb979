"""discord.py integration: one ``Database`` per bot process, opened in ``setup_hook``, closed with the bot.

>>> class Tux(DatabaseMixin, commands.Bot): ...
>>> bot = Tux(command_prefix=database_prefix("$"), intents=intents, database=Database(url, redis_url))
>>> class Levels(DatabaseCog): ...          # self.db inside every cog, the bot's one Database

Needs the ``discord`` extra (``pip install tux-database[discord]``). With sharding spread over several
processes (one per shard cluster), every process has its own memory cache: a Redis URL is then required
so writes in one cluster invalidate the others (the cache's pub/sub bus), and ``setup_hook`` refuses to
start without one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.ext import commands
from loguru import logger

from tux.database.exceptions import ConfigurationError
from tux.database.facade import Database

__all__ = ["DatabaseBot", "DatabaseCog", "DatabaseMixin", "database_of", "database_prefix"]


class DatabaseMixin:
    """Give a ``commands.Bot`` subclass ``self.db``: put it before the bot class in the bases.

    Parameters
    ----------
    database
        The process's ``Database``; built from the ``TUX_DB_*`` settings when omitted.
    migrate
        Upgrade the schema to head in ``setup_hook`` before anything else runs.
    """

    db: Database

    def __init__(self, *args: Any, database: Database | None = None, migrate: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.db = Database() if database is None else database
        self._migrate_on_start = migrate

    async def setup_hook(self) -> None:
        """Connect the database (and migrate it when asked) before the cogs' own set-up runs."""
        _require_shared_cache(self.db, self)
        await self.db.connect()
        if self._migrate_on_start:
            await self.db.migrate()
        logger.info("database connected for {}", type(self).__name__)
        await super().setup_hook()  # type: ignore[misc]

    async def close(self) -> None:
        """Close the bot (unloading cogs, which may still write), then the database."""
        try:
            await super().close()  # type: ignore[misc]
        finally:
            await self.db.close()


class DatabaseBot(DatabaseMixin, commands.Bot):
    """A ``commands.Bot`` with its ``Database`` (see :class:`DatabaseMixin`)."""


class DatabaseCog(commands.Cog):
    """Base cog whose ``self.db`` is the bot's one ``Database`` (never one per cog)."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @property
    def db(self) -> Database:
        """The bot's ``Database``."""
        return database_of(self.bot)


def database_of(bot: commands.Bot | discord.Client) -> Database:
    """Return the ``Database`` of ``bot``; ``ConfigurationError`` when it has none."""
    database = getattr(bot, "db", None)
    if not isinstance(database, Database):
        raise ConfigurationError(f"{type(bot).__name__} has no Database: base it on DatabaseMixin")
    return database


def database_prefix(default: str) -> Callable[[commands.Bot, discord.Message], Awaitable[list[str]]]:
    """Return a ``command_prefix`` callable: the guild's prefix (cached) or ``default``, and mentions.

    Mentions are added once the bot is logged in (before that it has no user to mention).

    In direct messages, and for guilds without a config, ``default`` applies.
    """

    async def prefix(bot: commands.Bot, message: discord.Message) -> list[str]:
        guild = message.guild
        configured = None if guild is None else await database_of(bot).guild_configs.get_prefix(guild.id)
        prefixes = [configured or default]
        return commands.when_mentioned_or(*prefixes)(bot, message) if bot.user else prefixes

    return prefix


def _require_shared_cache(database: Database, bot: object) -> None:
    """Refuse a bot that runs a subset of the shards (so other processes run the rest) without Redis."""
    shard_ids: list[int] = list(getattr(bot, "shard_ids", None) or ())
    shard_count: int | None = getattr(bot, "shard_count", None)
    clustered = bool(shard_ids) and shard_count is not None and len(shard_ids) < shard_count
    if clustered and database.cache.enabled and database.settings.redis_url is None:
        raise ConfigurationError(
            f"this process runs shards {sorted(shard_ids)} of {shard_count}: other processes share the "
            "database, so set redis_url (TUX_DB_REDIS_URL) for cross-process cache invalidation"
        )
