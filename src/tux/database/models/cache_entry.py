"""Rows of the cache's database level: shared, expiring key/value pairs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, Index, LargeBinary, String, event
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import length_between
from tux.database.models.base import Base

SET_UNLOGGED = DDL("ALTER TABLE cache_entry SET UNLOGGED").execute_if(dialect="postgresql")
"""Cached data may be lost on a crash, so PostgreSQL skips the WAL for it (faster writes)."""


class CacheEntry(Base):
    """A cached value, serialized by the cache layer, valid until ``expires_at``.

    The table is UNLOGGED on PostgreSQL: the migration creates it so, and ``metadata.create_all`` sets it
    right after creating it. SQLite has no such notion and gets a plain table.
    ``ix_cache_entry_expires_at`` serves the purge of expired entries.
    """

    __tablename__ = "cache_entry"
    __table_args__ = (
        length_between("key", 1, 512),
        Index("ix_cache_entry_expires_at", "expires_at"),
    )

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime]


event.listen(CacheEntry.__table__, "after_create", SET_UNLOGGED)
