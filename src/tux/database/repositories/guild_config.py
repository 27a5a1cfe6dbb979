"""``GuildConfigRepository``: a guild's prefix, log channels and jail settings.

The prefix is read on every message, so :meth:`GuildConfigRepository.get_prefix` selects that one
column; the moderation cogs need every log channel and the jail setup at once, so
:meth:`GuildConfigRepository.get_moderation_settings` reads them in one query into a small record.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import itemgetter
from typing import Any

from sqlalchemy import select

from tux.database.caching import names as n
from tux.database.exceptions import ValidationError
from tux.database.models import GuildConfig
from tux.database.models.guild_config import CHANNEL_AND_ROLE_COLUMNS
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.cached_common import from_guild_row, guild_seam
from tux.database.repositories.cached_specs import Change, invalidates
from tux.database.repositories.interfaces import IGuildConfigRepository
from tux.database.repositories.records import ModerationSettings
from tux.database.repositories.support import checked
from tux.database.repositories.validation import validate_payload

_SETTINGS_COLUMNS = tuple(getattr(GuildConfig, name) for name in CHANNEL_AND_ROLE_COLUMNS)


def _moderation_settings(row: Any) -> ModerationSettings:
    """The moderation settings of a cached config row (read by column name)."""
    return ModerationSettings(row["id"], *(row[name] for name in CHANNEL_AND_ROLE_COLUMNS))


class GuildConfigRepository(SQLAlchemyRepository[GuildConfig], IGuildConfigRepository):
    """Guild configuration rows, keyed by the guild id (``guild_config.id``)."""

    model = GuildConfig
    cache_seam = guild_seam(n.GUILD_CONFIG, n.GUILD_CONFIG_UPDATE, "id")  # one cached row answers 3 reads

    @from_guild_row(itemgetter("prefix"))
    async def get_prefix(self, guild_id: int) -> str | None:
        """Return the guild's prefix, or ``None`` when the guild has no config row."""
        statement = select(GuildConfig.prefix).where(GuildConfig.id == checked(GuildConfig, "id", guild_id))
        async with self._sessions.reading() as session:
            return (await session.scalars(statement)).one_or_none()

    @from_guild_row(_moderation_settings)
    async def get_moderation_settings(self, guild_id: int) -> ModerationSettings | None:
        """Return the log channels and jail channel/role of the guild, or ``None`` without a config."""
        key = checked(GuildConfig, "id", guild_id)
        statement = select(*_SETTINGS_COLUMNS).where(GuildConfig.id == key)
        async with self._sessions.reading() as session:
            row = (await session.execute(statement)).one_or_none()
        if row is None:
            return None
        return ModerationSettings(guild_id=key, **dict(zip(CHANNEL_AND_ROLE_COLUMNS, row, strict=True)))

    @invalidates(
        n.GUILD_CONFIG_UPDATE, lambda result, guild_id, data: [Change(n.GUILD_CONFIG_UPDATE, guild_id)]
    )
    async def upsert_config(self, guild_id: int, data: Mapping[str, object]) -> GuildConfig:
        """Create or update the guild's config with the fields in ``data``; other fields keep their value.

        One transaction: the guild row is inserted if missing (``ON CONFLICT DO NOTHING``), then the
        config is written with ``INSERT ... ON CONFLICT (id) DO UPDATE`` of exactly the given fields, so
        concurrent first writes of the same guild end with one row and no duplicate-key error.

        Raises
        ------
        ValidationError
            ``data`` names an unknown field, has a wrong value, or tries to set ``id``.
        """
        key = checked(GuildConfig, "id", guild_id)
        values = validate_payload(GuildConfig, data, partial=True)
        if "id" in values:
            raise ValidationError("guild_config.id is the guild id; pass it as guild_id, not in data")
        return await self._upsert_row({"id": key, **values}, ("id",), tuple(values), guild=key)
