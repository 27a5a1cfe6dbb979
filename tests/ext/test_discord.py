"""discord.py integration: a real ``commands.Bot`` (never logged in) with the example cogs and stand-ins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord.ext import commands
from examples.bot import DEFAULT_PREFIX, EXTENSIONS, ExampleBot, build_bot

from tests.caching.conftest import SPAWN, next_event
from tests.ext.cluster_worker import cluster, cluster_database, guild_message, watch_prefix
from tests.ext.standins import Channel, Context, Guild, Member, Message, Role
from tux.database import Database
from tux.database.exceptions import ConfigurationError
from tux.database.ext.discord import DatabaseCog, database_of, database_prefix
from tux.database.models import CaseStatus

GUILD = 111_111_111_111_111_111
MOD = 222_222_222_222_222_222
USER = 333_333_333_333_333_333
CHANNEL = 444_444_444_444_444_444
REWARD = 555_555_555_555_555_555


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[ExampleBot]:
    """The example bot after ``setup_hook`` (database connected, cogs loaded), closed afterwards."""
    example = build_bot(Database(database_url))
    await example.setup_hook()
    try:
        yield example
    finally:
        await example.close()


@pytest.fixture
def guild() -> Guild:
    author, moderator = Member(USER), Member(MOD)
    return Guild(GUILD, members={USER: author, MOD: moderator}, roles={REWARD: Role(REWARD)})


def command(bot: commands.Bot, name: str) -> tuple[commands.Cog, Any]:
    found = bot.get_command(name)
    assert found is not None
    assert found.cog is not None
    return found.cog, found.callback


async def test_setup_hook_connects_and_close_closes_the_one_database(database_url: str) -> None:
    database = Database(database_url)
    example = build_bot(database)
    assert not database.client.is_connected
    await example.setup_hook()
    assert database.client.is_connected
    assert {f"examples.cogs.{name}" for name in ("moderation", "levels", "snippets")} == set(EXTENSIONS)
    assert set(example.extensions) == set(EXTENSIONS)
    cogs = list(example.cogs.values())
    assert len(cogs) == 3
    assert all(isinstance(cog, DatabaseCog) and cog.db is database for cog in cogs)
    await example.close()
    assert not database.client.is_connected
    assert not example.cogs, "closing the bot unloads the cogs before the database closes"


async def test_ban_records_the_case_then_bans(bot: ExampleBot, guild: Guild) -> None:
    cog, ban = command(bot, "ban")
    ctx = Context(guild, guild.members[MOD])
    await ban(cog, ctx, guild.members[USER], reason="spam")
    assert guild.banned == [USER]
    assert ctx.sent == [f"Case #1: banned {guild.members[USER]} (spam)."]
    assert await bot.db.moderation.is_banned(GUILD, USER)
    assert [entry.action for entry in await bot.db.audit_log.page(GUILD)] == ["case.ban"]


async def test_a_ban_discord_refuses_is_voided(bot: ExampleBot, guild: Guild) -> None:
    guild.refuse = True
    cog, ban = command(bot, "ban")
    ctx = Context(guild, guild.members[MOD])
    await ban(cog, ctx, guild.members[USER], reason="spam")
    assert "voided" in ctx.sent[0]
    assert not await bot.db.moderation.is_banned(GUILD, USER)
    case = await bot.db.cases.find_by_guild_and_number(GUILD, 1)
    assert case is not None
    assert case.case_status == CaseStatus.VOIDED


async def test_unban_only_when_the_records_say_banned(bot: ExampleBot, guild: Guild) -> None:
    cog, unban = command(bot, "unban")
    ctx = Context(guild, guild.members[MOD])
    await unban(cog, ctx, guild.members[USER], reason="appeal")
    assert ctx.sent == [f"{guild.members[USER]} is not banned."]
    await bot.db.moderation.ban_user(GUILD, USER, "spam", MOD)
    guild.banned.append(USER)
    await unban(cog, ctx, guild.members[USER], reason="appeal")
    assert guild.banned == []
    assert ctx.sent[-1].startswith("Case #2: unbanned")
    assert not await bot.db.moderation.is_banned(GUILD, USER)


async def test_prefix_lookup_defaults_and_follows_the_prefix_command(bot: ExampleBot, guild: Guild) -> None:
    message = Message(guild, guild.members[USER], Channel(CHANNEL))
    assert await bot.get_prefix(message) == [DEFAULT_PREFIX]  # type: ignore[arg-type]
    cog, prefix = command(bot, "prefix")
    await prefix(cog, Context(guild, guild.members[MOD]), "!")
    assert await bot.get_prefix(message) == ["!"]  # type: ignore[arg-type]
    direct = Message(None, guild.members[USER], Channel(CHANNEL))
    assert await bot.get_prefix(direct) == [DEFAULT_PREFIX]  # type: ignore[arg-type]


async def test_the_xp_listener_awards_and_levels_up_with_role_rewards(bot: ExampleBot, guild: Guild) -> None:
    levels = bot.get_cog("Levels")
    assert levels is not None
    channel = Channel(CHANNEL)
    await levels.on_message(Message(guild, guild.members[USER], channel))  # type: ignore[attr-defined]
    row = await bot.db.levels.find_by_id((USER, GUILD))
    assert row is not None
    assert row.xp == 1.0
    await bot.db.levels_config.set_role_reward(GUILD, 1, REWARD)
    await bot.db.levels.update((USER, GUILD), {"xp": 19.0, "last_message": None})
    await levels.on_message(Message(guild, guild.members[USER], channel))  # type: ignore[attr-defined]
    assert guild.members[USER].added == [Role(REWARD)]
    assert channel.sent == [f"<@{USER}> reached level 1!"]
    bot_author = Member(MOD, bot=True)
    await levels.on_message(Message(guild, bot_author, channel))  # type: ignore[attr-defined]
    assert await bot.db.levels.find_by_id((MOD, GUILD)) is None


async def test_rank_command(bot: ExampleBot, guild: Guild) -> None:
    cog, rank = command(bot, "rank")
    ctx = Context(guild, guild.members[USER])
    await rank(cog, ctx)
    await bot.db.levels_service.set_xp(GUILD, USER, 80.0)
    await rank(cog, ctx)
    assert ctx.sent == ["No XP yet.", "Level 2, 80 XP, rank #1"]


async def test_snippet_commands(bot: ExampleBot, guild: Guild) -> None:
    create_cog, create = command(bot, "createsnippet")
    use_cog, use = command(bot, "snippet")
    ctx = Context(guild, guild.members[USER])
    await create(create_cog, ctx, "hello", content="Hello, world")
    await create(create_cog, ctx, "hi", content="hello")
    await create(create_cog, ctx, "hello", content="again")
    await use(use_cog, ctx, "hi")
    await use(use_cog, ctx, "nothing")
    assert ctx.sent[:2] == ["Created snippet 'hello'.", "Created alias of 'hello' 'hi'."]
    assert ctx.sent[2].startswith("Cannot create 'hello'")
    assert ctx.sent[3:] == ["`hello` (1 uses): Hello, world", "No snippet 'nothing'."]


async def test_a_bot_without_a_database_is_refused() -> None:
    plain = commands.Bot(command_prefix="$", intents=discord.Intents.none())
    with pytest.raises(ConfigurationError, match="DatabaseMixin"):
        database_of(plain)
    with pytest.raises(ConfigurationError):
        _ = DatabaseCog(plain).db
    prefix = database_prefix("$")
    with pytest.raises(ConfigurationError):
        await prefix(plain, Message(Guild(GUILD), Member(USER), Channel(CHANNEL)))  # type: ignore[arg-type]


async def test_a_shard_cluster_without_redis_is_refused(database_url: str) -> None:
    database = Database(database_url)
    with pytest.raises(ConfigurationError, match="redis_url"):
        await cluster(database, 0).setup_hook()
    assert not database.client.is_connected


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_one_process_per_cluster_sees_the_others_writes(
    database_url: str, redis_namespace: str, spawn: Any
) -> None:
    events, go = SPAWN.Queue(), SPAWN.Queue()
    spawn(watch_prefix, database_url, redis_namespace, events, go)
    assert next_event(events) == ("ready", [DEFAULT_PREFIX], [DEFAULT_PREFIX])  # cached there now
    first = cluster(cluster_database(database_url, redis_namespace), 0)
    await first.setup_hook()
    try:
        await first.db.guild_configs.upsert_config(GUILD, {"prefix": "!"})
        assert await first.get_prefix(guild_message()) == ["!"]  # type: ignore[arg-type]
    finally:  # never logged in: AutoShardedBot.close() needs the shard queue a login makes
        await first.db.close()
    go.put("go")
    assert next_event(events) == ("served", ["!"])
