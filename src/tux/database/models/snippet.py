"""Snippets: named text a guild's members save and recall; an alias points at another snippet."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, column, func
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import length_between, non_negative, positive
from tux.database.models.base import AutoIncrementId, Base, DiscordId, utcnow


class Snippet(Base):
    """A saved snippet, or an alias of one (``alias`` holds the target's name, as in Tux).

    Names are unique per guild regardless of case through the unique functional index
    ``uq_snippet_guild_id_lower_snippet_name`` on ``(guild_id, lower(snippet_name))``; look names up with
    ``func.lower(Snippet.snippet_name) == func.lower(name)`` to use it. SQLite's ``lower()`` folds ASCII
    letters only, PostgreSQL's follows the database collation.
    """

    __tablename__ = "snippet"
    __table_args__ = (
        CheckConstraint("snippet_content IS NOT NULL OR alias IS NOT NULL", name="content_or_alias"),
        length_between("snippet_name", 1, 100),
        length_between("snippet_content", 1, 4000),
        length_between("alias", 1, 100),
        positive("snippet_user_id"),
        non_negative("uses"),
        Index(
            "uq_snippet_guild_id_lower_snippet_name",
            "guild_id",
            func.lower(column("snippet_name")),
            unique=True,
        ),
    )

    snippet_id: Mapped[int] = mapped_column(AutoIncrementId, primary_key=True, autoincrement=True)
    snippet_name: Mapped[str] = mapped_column(String(100))
    snippet_content: Mapped[str | None] = mapped_column(String(4000))
    snippet_user_id: Mapped[int] = mapped_column(DiscordId)
    snippet_created_at: Mapped[datetime] = mapped_column(default=utcnow)
    guild_id: Mapped[int] = mapped_column(DiscordId, ForeignKey("guild.id", ondelete="CASCADE"))
    uses: Mapped[int] = mapped_column(default=0)
    locked: Mapped[bool] = mapped_column(default=False)
    alias: Mapped[str | None] = mapped_column(String(100))
