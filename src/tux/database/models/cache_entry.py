"""Rows of the cache's database level: shared, expiring key/value pairs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Index, LargeBinary, String, Table, event
from sqlalchemy.orm import Mapped, mapped_column

from tux.database.models._columns import length_between
from tux.database.models.base import Base


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


def _set_unlogged(table: Table, connection: Connection, **_: Any) -> None:
    """Cached data may be lost on a crash, so PostgreSQL skips the WAL for it (faster writes)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"ALTER TABLE {table.name} SET UNLOGGED")


event.listen(CacheEntry.__table__, "after_create", _set_unlogged)
