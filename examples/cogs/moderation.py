"""Moderation: the case is recorded first (numbered, status and audit in one transaction), then Discord acts.

If Discord refuses, the case is voided, which restores the member's previous status.
"""

from __future__ import annotations

import discord
from discord.ext import commands

from tux.database.ext.discord import DatabaseCog


class Moderation(DatabaseCog):
    """``ban``, ``unban`` and ``prefix``."""

    @commands.command()
    @commands.guild_only()
    @commands.has_permissions(ban_members=True)
    async def ban(self, ctx: commands.Context[commands.Bot], member: discord.Member, *, reason: str) -> None:
        """Ban ``member`` and record the case."""
        assert ctx.guild is not None
        case = await self.db.moderation.ban_user(ctx.guild.id, member.id, reason, ctx.author.id)
        try:
            await ctx.guild.ban(member, reason=reason)
        except discord.HTTPException:
            await self.db.moderation.void_case(
                ctx.guild.id, case.case_number, "Discord refused", ctx.author.id
            )
            await ctx.send(f"Could not ban {member}; case #{case.case_number} voided.")
            return
        await ctx.send(f"Case #{case.case_number}: banned {member} ({reason}).")

    @commands.command()
    @commands.guild_only()
    @commands.has_permissions(ban_members=True)
    async def unban(self, ctx: commands.Context[commands.Bot], user: discord.User, *, reason: str) -> None:
        """Unban ``user`` if the records say they are banned."""
        assert ctx.guild is not None
        if not await self.db.moderation.is_banned(ctx.guild.id, user.id):
            await ctx.send(f"{user} is not banned.")
            return
        case = await self.db.moderation.unban_user(ctx.guild.id, user.id, reason, ctx.author.id)
        await ctx.guild.unban(user, reason=reason)
        await ctx.send(f"Case #{case.case_number}: unbanned {user}.")

    @commands.command()
    @commands.guild_only()
    @commands.has_permissions(manage_guild=True)
    async def prefix(self, ctx: commands.Context[commands.Bot], new_prefix: str) -> None:
        """Set the guild's command prefix (the cache is invalidated after commit)."""
        assert ctx.guild is not None
        await self.db.guild_configs.upsert_config(ctx.guild.id, {"prefix": new_prefix})
        await ctx.send(f"Prefix set to {new_prefix}")


async def setup(bot: commands.Bot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(Moderation(bot))
