"""``GuildRepository`` and the helpers every guild-scoped repository shares.

Every other table has a foreign key to ``guild``, so writers that may run before the bot ever saw a
guild first make sure its row exists. They do it with :func:`insert_guild_if_missing`, an
``INSERT ... ON CONFLICT DO NOTHING`` that neither fails nor rewrites (and so neither locks nor bloats)
an existing row, in the same session, hence the same transaction, as the write that needs it.
"""

from __future__ import annotations

from sqlalchemy import select

from tux.database.caching import names as n
from tux.database.models import Guild
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.cached_specs import NO_CHANGE, CacheSeam, Change, Write, changes_nothing
from tux.database.repositories.interfaces import IGuildRepository
from tux.database.repositories.support import checked, dialect_insert


class GuildRepository(SQLAlchemyRepository[Guild], IGuildRepository):
    """Guild rows: the generic CRUD plus :meth:`ensure`."""

    model = Guild
    cache_seam = CacheSeam(
        kind=None,  # nothing of the guild row is cached; deleting it drops every kind in the guild
        writes={
            **dict.fromkeys(("create", "update", "upsert"), NO_CHANGE),
            "delete": Write(
                (n.GUILD_DELETE,),
                lambda result, id: [] if result is False else [Change(n.GUILD_DELETE, id)],  # noqa: A006
            ),
        },
    )

    @changes_nothing
    async def ensure(self, guild_id: int) -> Guild:
        """Return guild ``guild_id``, inserting it with defaults if it does not exist yet.

        The insert is ``ON CONFLICT DO NOTHING ... RETURNING``; only when the row already existed is it
        read back, so an existing guild is never rewritten or locked.
        """
        key = checked(Guild, "id", guild_id)
        insert = (
            dialect_insert(self._sessions, Guild)
            .values(id=key)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(Guild)
        )
        async with self._sessions.writing() as session:
            created: Guild | None = (await session.scalars(insert)).one_or_none()
            if created is not None:
                return created
            reread = select(Guild).where(Guild.id == key).execution_options(populate_existing=True)
            existing: Guild = (await session.scalars(reread)).one()
            return existing
