"""Starboard repositories: the guild's configuration (an upsert) and posted messages' star counts.

Star counts change with one ``UPDATE ... SET star_count = CASE WHEN star_count + :d < 0 THEN 0 ELSE
star_count + :d END RETURNING star_count``: reactions arriving together never lose an update, and a
burst of removals never drives the count below zero (it clamps instead of violating the CHECK).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import cast

from sqlalchemy import case, select, update

from tux.database.caching import names as n
from tux.database.exceptions import ValidationError
from tux.database.models import Starboard, StarboardMessage
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.cached_common import guild_seam
from tux.database.repositories.cached_specs import Change, invalidates
from tux.database.repositories.interfaces import IStarboardMessageRepository, IStarboardRepository
from tux.database.repositories.support import checked
from tux.database.repositories.validation import require_mapping, validate_payload


class StarboardRepository(SQLAlchemyRepository[Starboard], IStarboardRepository):
    """Starboard configuration, one row per guild (keyed by ``guild_id``)."""

    model = Starboard
    cache_seam = guild_seam(n.STARBOARD, n.STARBOARD_UPDATE, "guild_id")  # key starboard:<guild>

    @invalidates(n.STARBOARD_UPDATE, lambda result, guild_id, data: [Change(n.STARBOARD_UPDATE, guild_id)])
    async def upsert_starboard(self, guild_id: int, data: Mapping[str, object]) -> Starboard:
        """Create the guild's starboard or update it with the fields in ``data``.

        ``data`` needs ``starboard_channel_id`` and ``starboard_emoji``; ``starboard_threshold``
        defaults to 1 on creation and is kept on update when left out.

        Raises
        ------
        ValidationError
            On an unknown, missing or ill-typed field, a ``guild_id`` in ``data`` that contradicts
            ``guild_id``, or a threshold below 1.
        """
        if "guild_id" in require_mapping(data) and data["guild_id"] != guild_id:
            raise ValidationError("guild_id in data differs from the guild_id argument")
        values = validate_payload(Starboard, {**data, "guild_id": guild_id}, partial=False)
        threshold = values.get("starboard_threshold")
        if threshold is not None and cast("int", threshold) < 1:
            raise ValidationError(f"starboard_threshold: expected an integer >= 1, got {threshold!r}")
        guild = cast("int", values["guild_id"])
        targets = tuple(name for name in values if name != "guild_id")
        return await self._upsert_row(values, ("guild_id",), targets, guild=guild)


class StarboardMessageRepository(SQLAlchemyRepository[StarboardMessage], IStarboardMessageRepository):
    """Starred messages and their reposts (keyed by the original ``message_id``)."""

    model = StarboardMessage

    async def change_stars(self, *, message_id: int, guild_id: int, delta: int) -> int | None:
        """Add ``delta`` (negative to remove) to the star count, never going below 0; return the count.

        ``None`` when the guild has no such starred message.
        """
        message = checked(StarboardMessage, "message_id", message_id)
        guild = checked(StarboardMessage, "message_guild_id", guild_id)
        if isinstance(delta, bool) or not isinstance(delta, int) or abs(delta) > 2**31 - 1:
            raise ValidationError(f"delta: expected an integer within the star count's range, got {delta!r}")
        step = delta
        raised = StarboardMessage.star_count + step
        statement = (
            update(StarboardMessage)
            .where(StarboardMessage.message_id == message, StarboardMessage.message_guild_id == guild)
            .values(star_count=case((raised < 0, 0), else_=raised))
            .returning(StarboardMessage.star_count)
            .execution_options(synchronize_session=False)
        )
        async with self._sessions.writing() as session:
            count = (await session.execute(statement)).scalar_one_or_none()
        return None if count is None else int(count)

    async def find_by_starboard_message(
        self, guild_id: int, starboard_message_id: int
    ) -> StarboardMessage | None:
        """Return the original message whose repost on the starboard is ``starboard_message_id``."""
        statement = (
            select(StarboardMessage)
            .where(
                StarboardMessage.message_guild_id == checked(StarboardMessage, "message_guild_id", guild_id),
                StarboardMessage.starboard_message_id
                == checked(StarboardMessage, "starboard_message_id", starboard_message_id),
            )
            .execution_options(populate_existing=True)
        )
        async with self._sessions.reading() as session:
            return (await session.scalars(statement)).first()
