"""``db.controller.snippet``: Tux's Prisma-era ``SnippetController`` over ``db.snippets``.

Creation keeps Tux's behaviour (the cog checks snippet bans and names); ``db.snippet_service`` does
those checks itself. Tux's ``get_snippet_by_name`` (a substring match across every guild) is left out.
"""

from __future__ import annotations

from datetime import datetime

from tux.database.controllers.base import LegacyController, legacy
from tux.database.models import Snippet


class SnippetController(LegacyController):
    """Snippets with the methods and arguments of Tux's ``SnippetController``."""

    @legacy("db.snippets.find_all")
    async def get_all_snippets(self) -> list[Snippet]:
        """Return every snippet of every guild."""
        return await self._db.snippets.find_all(order_by="snippet_id")

    @legacy("db.snippets.list_by_guild")
    async def get_all_snippets_by_guild_id(self, guild_id: int, include_guild: bool = False) -> list[Snippet]:
        """Return every snippet of the guild."""
        return await self._db.snippets.find_all(guild_id=guild_id, order_by="snippet_id")

    @legacy("db.snippets.find_all")
    async def get_all_snippets_sorted(
        self, newestfirst: bool = True, limit: int | None = None
    ) -> list[Snippet]:
        """Return snippets by creation time, newest first unless ``newestfirst`` is false."""
        order = (
            ("-snippet_created_at", "-snippet_id") if newestfirst else ("snippet_created_at", "snippet_id")
        )
        return await self._db.snippets.find_all(order_by=order, limit=limit)

    @legacy("db.snippets.find_by_name")
    async def get_snippet_by_name_and_guild_id(
        self, snippet_name: str, guild_id: int, include_guild: bool = False
    ) -> Snippet | None:
        """Return the guild's snippet called ``snippet_name`` in any letter case (aliases not followed)."""
        return await self._db.snippets.find_by_name(guild_id, snippet_name)

    @legacy("db.snippet_service.create")
    async def create_snippet(
        self,
        snippet_name: str,
        snippet_content: str,
        snippet_created_at: datetime,
        snippet_user_id: int,
        guild_id: int,
    ) -> Snippet:
        """Insert a snippet (creating the guild row when missing)."""
        return await self._insert(
            guild_id,
            snippet_name=snippet_name,
            snippet_content=snippet_content,
            snippet_created_at=snippet_created_at,
            snippet_user_id=snippet_user_id,
        )

    @legacy("db.snippets.find_by_id")
    async def get_snippet_by_id(self, snippet_id: int, include_guild: bool = False) -> Snippet | None:
        """Return the snippet."""
        return await self._db.snippets.find_by_id(snippet_id)

    @legacy("db.snippet_service.delete")
    async def delete_snippet_by_id(self, snippet_id: int) -> Snippet | None:
        """Delete the snippet (not its aliases) and return it."""
        return await self._delete_returning(self._db.snippets, snippet_id)

    @legacy("db.snippet_service.create_alias")
    async def create_snippet_alias(
        self,
        snippet_name: str,
        snippet_alias: str,
        snippet_created_at: datetime,
        snippet_user_id: int,
        guild_id: int,
    ) -> Snippet:
        """Insert ``snippet_name`` as an alias of the snippet named ``snippet_alias``."""
        return await self._insert(
            guild_id,
            snippet_name=snippet_name,
            alias=snippet_alias,
            snippet_created_at=snippet_created_at,
            snippet_user_id=snippet_user_id,
        )

    @legacy("db.snippets.aliases_of")
    async def get_all_aliases(self, snippet_name: str, guild_id: int) -> list[Snippet]:
        """Return the aliases pointing at ``snippet_name``."""
        return await self._db.snippets.aliases_of(guild_id, snippet_name)

    @legacy("db.snippet_service.edit")
    async def update_snippet_by_id(self, snippet_id: int, snippet_content: str) -> Snippet | None:
        """Replace the snippet's content."""
        return await self._db.snippets.update(snippet_id, {"snippet_content": snippet_content})

    @legacy("db.snippet_service.get")
    async def increment_snippet_uses(self, snippet_id: int) -> Snippet | None:
        """Add one to the snippet's uses atomically and return it."""
        async with self._db.transaction("legacy.snippet.increment_snippet_uses"):
            snippet = await self._db.snippets.find_by_id(snippet_id)
            if snippet is None:
                return None
            if snippet.alias is None:
                return await self._db.snippets.use(snippet.guild_id, snippet.snippet_name)
            return await self._db.snippets.update(snippet_id, {"uses": snippet.uses + 1})

    @legacy("db.snippet_service.set_locked")
    async def lock_snippet_by_id(self, snippet_id: int) -> Snippet | None:
        """Lock the snippet."""
        return await self._db.snippets.update(snippet_id, {"locked": True})

    @legacy("db.snippet_service.set_locked")
    async def unlock_snippet_by_id(self, snippet_id: int) -> Snippet | None:
        """Unlock the snippet."""
        return await self._db.snippets.update(snippet_id, {"locked": False})

    @legacy("db.snippet_service.set_locked")
    async def toggle_snippet_lock_by_id(self, snippet_id: int) -> Snippet | None:
        """Flip the snippet's lock and return it."""
        async with self._db.transaction("legacy.snippet.toggle_snippet_lock_by_id"):
            snippet = await self._db.snippets.find_by_id(snippet_id)
            if snippet is None:
                return None
            return await self._db.snippets.update(snippet_id, {"locked": not snippet.locked})

    @legacy("db.snippets.count")
    async def count_snippets_by_guild_id(self, guild_id: int) -> int:
        """Return how many snippets (aliases included) the guild has."""
        return await self._db.snippets.count(guild_id=guild_id)

    @legacy("db.guilds.delete (cascades)")
    async def bulk_delete_snippets_by_guild_id(self, guild_id: int) -> int:
        """Delete every snippet of the guild; return how many."""
        return await self._delete_matching(self._db.snippets, guild_id=guild_id)

    async def _insert(self, guild_id: int, **data: object) -> Snippet:
        async with self._db.transaction("legacy.snippet.create"):
            await self._db.guilds.ensure(guild_id)
            return await self._db.snippets.create({"guild_id": guild_id, **data})
