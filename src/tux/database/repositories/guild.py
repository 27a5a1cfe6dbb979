"""``GuildRepository`` and the helpers every guild-scoped repository shares.

Every other table has a foreign key to ``guild``, so writers that may run before the bot ever saw a
guild first make sure its row exists. They do it with :func:`insert_guild_if_missing`, an
``INSERT ... ON CONFLICT DO NOTHING`` that neither fails nor rewrites (and so neither locks nor bloats)
an existing row, in the same session, hence the same transaction, as the write that needs it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tux.database.core.session import SessionProvider
from tux.database.exceptions import ValidationError
from tux.database.models import Guild
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.interfaces import IGuildRepository
from tux.database.repositories.validation import coerce_value, field_spec

MAX_PAGE_SIZE = 1000
"""Largest page a paginated query returns; bigger requests are refused rather than silently cut."""


def dialect_insert(sessions: SessionProvider, model: type[Any]) -> Any:
    """Return the backend's ``insert`` (the one with ``on_conflict_do_*``) for ``model``."""
    return sqlite.insert(model) if sessions.is_sqlite else postgresql.insert(model)


def checked(model: type[Any], name: str, value: object) -> Any:
    """Return ``value`` validated for column ``name`` of ``model`` (raises before any SQL is built)."""
    return coerce_value(field_spec(model, name), value)


def checked_required(model: type[Any], name: str, value: object) -> Any:
    """Like :func:`checked` but refuses ``None`` even where the column is nullable."""
    if value is None:
        raise ValidationError(f"{name}: a value is required")
    return checked(model, name, value)


def page_size(limit: object, *, label: str = "limit") -> int:
    """Return ``limit`` if it is an integer between 1 and :data:`MAX_PAGE_SIZE`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"{label} must be an integer between 1 and {MAX_PAGE_SIZE}")
    return limit


async def insert_guild_if_missing(sessions: SessionProvider, session: AsyncSession, guild_id: int) -> None:
    """Insert the ``guild`` row of ``guild_id`` unless it exists, inside ``session``'s transaction.

    ``guild_id`` must already be validated. On PostgreSQL a concurrent inserter of the same guild makes
    this wait for that transaction and then do nothing, so racing first writes never fail.
    """
    statement = (
        dialect_insert(sessions, Guild).values(id=guild_id).on_conflict_do_nothing(index_elements=["id"])
    )
    await session.execute(statement)


class GuildRepository(SQLAlchemyRepository[Guild], IGuildRepository):
    """Guild rows: the generic CRUD plus :meth:`ensure`."""

    model = Guild

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
