"""``AuditLogRepository``: the append-only trail of moderation and configuration actions.

An audit trail that can be edited proves nothing, so the repository only appends and reads:
``update``, ``delete`` and ``upsert`` are refused before any SQL runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

from sqlalchemy import ColumnElement, select

from tux.database.exceptions import ValidationError
from tux.database.models import AuditLog
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.interfaces import IAuditLogRepository
from tux.database.repositories.support import checked, page_size


def _refuse(operation: str) -> NoReturn:
    raise ValidationError(f"audit_log is append-only: {operation} is not allowed")


class AuditLogRepository(SQLAlchemyRepository[AuditLog], IAuditLogRepository):
    """Audit entries: :meth:`append` and newest-first :meth:`page`; never modified or removed."""

    model = AuditLog

    async def append(
        self,
        guild_id: int,
        actor_id: int,
        action: str,
        *,
        target_id: int | None = None,
        case_id: int | None = None,
        details: Mapping[str, object] | None = None,
    ) -> AuditLog:
        """Record that ``actor_id`` did ``action`` (to ``target_id``, about ``case_id``) in the guild.

        The guild must exist (a :class:`~tux.database.exceptions.ForeignKeyError` otherwise): an audit
        entry is written by the action it records, which already created the guild's row.
        """
        if details is not None and not isinstance(details, Mapping):
            raise ValidationError(f"details: expected a mapping, got {type(details).__name__}")
        return await self.create(
            {
                "guild_id": guild_id,
                "actor_id": actor_id,
                "action": action,
                "target_id": target_id,
                "case_id": case_id,
                "details": dict(details or {}),
            }
        )

    async def page(self, guild_id: int, *, before_id: int | None = None, limit: int = 50) -> list[AuditLog]:
        """Return up to ``limit`` entries newest first; pass the last page's lowest id as ``before_id``."""
        clauses: list[ColumnElement[bool]] = [AuditLog.guild_id == checked(AuditLog, "guild_id", guild_id)]
        if before_id is not None:
            clauses.append(AuditLog.id < checked(AuditLog, "id", before_id))
        statement = select(AuditLog).where(*clauses).order_by(AuditLog.id.desc()).limit(page_size(limit))
        async with self._sessions.reading() as session:
            return list((await session.scalars(statement)).all())

    async def update(self, id: Any, data: Mapping[str, object]) -> AuditLog | None:  # noqa: A002
        """Refuse: audit entries are never modified."""
        _refuse("update")

    async def delete(self, id: Any) -> bool:  # noqa: A002
        """Refuse: audit entries are never removed (they go only with their guild)."""
        _refuse("delete")

    async def upsert(
        self,
        data: Mapping[str, object],
        *,
        conflict_fields: Sequence[str] | None = None,
        update_fields: Sequence[str] | None = None,
    ) -> AuditLog:
        """Refuse: an upsert could overwrite an existing entry."""
        _refuse("upsert")
