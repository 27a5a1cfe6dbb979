"""The example bot: one ``Database`` for the process, the guild's prefix from the cache, three cogs.

Run it with a token: ``TUX_EXAMPLE_TOKEN=... TUX_DB_DATABASE_URL=... python -m examples.bot``. Without
``TUX_DB_DATABASE_URL`` it uses a SQLite file under ``./data``; set ``TUX_DB_REDIS_URL`` when several
processes (shard clusters) run the bot.
"""

from __future__ import annotations

import os

import discord

from tux.database import Database
from tux.database.ext.discord import DatabaseBot, database_prefix

DEFAULT_PREFIX = "$"
EXTENSIONS = ("examples.cogs.moderation", "examples.cogs.levels", "examples.cogs.snippets")


class ExampleBot(DatabaseBot):
    """Connects and migrates the database in ``setup_hook``, then loads the cogs."""

    async def setup_hook(self) -> None:
        """Open the database first: the cogs use it as soon as they load."""
        await super().setup_hook()
        for extension in EXTENSIONS:
            await self.load_extension(extension)


def build_bot(database: Database | None = None) -> ExampleBot:
    """Return the bot (not logged in); tests pass their own ``Database``."""
    intents = discord.Intents.default()
    intents.message_content = True
    intents.members = True
    return ExampleBot(
        command_prefix=database_prefix(DEFAULT_PREFIX), intents=intents, database=database, migrate=True
    )


def main() -> None:
    """Run the bot until interrupted (needs ``TUX_EXAMPLE_TOKEN``)."""
    build_bot().run(os.environ["TUX_EXAMPLE_TOKEN"])


if __name__ == "__main__":
    main()
