"""Snippets: create and recall through ``db.snippet_service`` (snippet bans, locks and aliases included)."""

from __future__ import annotations

from discord.ext import commands

from tux.database.exceptions import ConflictError, PermissionDeniedError, ValidationError
from tux.database.ext.discord import DatabaseCog


class Snippets(DatabaseCog):
    """``createsnippet`` and ``snippet``."""

    @commands.command(name="createsnippet")
    @commands.guild_only()
    async def create_snippet(self, ctx: commands.Context[commands.Bot], name: str, *, content: str) -> None:
        """Save ``content`` as ``name`` (naming an existing snippet makes an alias)."""
        assert ctx.guild is not None
        try:
            snippet = await self.db.snippet_service.create(ctx.guild.id, name, content, ctx.author.id)
        except (ConflictError, PermissionDeniedError, ValidationError) as error:
            await ctx.send(f"Cannot create {name!r}: {error}")
            return
        kind = f"alias of {snippet.alias!r}" if snippet.alias else "snippet"
        await ctx.send(f"Created {kind} {snippet.snippet_name!r}.")

    @commands.command()
    @commands.guild_only()
    async def snippet(self, ctx: commands.Context[commands.Bot], name: str) -> None:
        """Send snippet ``name`` (following an alias) and count the use."""
        assert ctx.guild is not None
        found = await self.db.snippet_service.get(ctx.guild.id, name)
        if found is None:
            await ctx.send(f"No snippet {name!r}.")
            return
        await ctx.send(f"`{found.snippet_name}` ({found.uses} uses): {found.snippet_content}")


async def setup(bot: commands.Bot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(Snippets(bot))
