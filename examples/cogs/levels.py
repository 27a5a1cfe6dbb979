"""Levels: the XP listener (one cached decision read, one atomic award) and the rank command."""

from __future__ import annotations

import discord
from discord.ext import commands

from tux.database.ext.discord import DatabaseCog


class Levels(DatabaseCog):
    """Chat XP, level-up messages with role rewards, and ``rank``."""

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Award the XP this message earns (cooldown, blacklists and multipliers are the service's)."""
        guild = message.guild
        member = None if guild is None or message.author.bot else guild.get_member(message.author.id)
        if guild is None or member is None:
            return
        result = await self.db.levels_service.process_message(
            guild.id, member.id, message.channel.id, [role.id for role in member.roles]
        )
        if not result.level_up:
            return
        rewards = [guild.get_role(role_id) for role_id in result.role_rewards_to_apply]
        missing = [role for role in rewards if role is not None and role not in member.roles]
        if missing:
            await member.add_roles(*missing, reason=f"level {result.level}")
        await message.channel.send(f"{member.mention} reached level {result.level}!")

    @commands.command()
    @commands.guild_only()
    async def rank(self, ctx: commands.Context[commands.Bot]) -> None:
        """Show the author's XP, level and leaderboard position (cached)."""
        assert ctx.guild is not None
        row = await self.db.levels.find_by_id((ctx.author.id, ctx.guild.id))
        position = await self.db.levels_service.rank(ctx.guild.id, ctx.author.id)
        if row is None or position is None:
            await ctx.send("No XP yet.")
            return
        await ctx.send(f"Level {row.level}, {row.xp:g} XP, rank #{position}")


async def setup(bot: commands.Bot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(Levels(bot))
