"""``CaseRepository``: moderation cases, numbered per guild.

Case numbers come from ``guild.case_count``, bumped by one ``INSERT ... ON CONFLICT DO UPDATE ...
RETURNING`` that also creates the guild row. The row lock it takes is held until the surrounding
transaction ends, so two moderators never get the same number and a rolled-back case leaves no gap.
Tempban expiry claims rows in the same statement that marks them processed, so a case is handed to
exactly one worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, bindparam, func, not_, select, update

from tux.database.caching import names as n
from tux.database.caching.region import CacheKey, CacheRegion
from tux.database.core.statements import Statement
from tux.database.models import Case, CaseStatus, CaseType, Guild
from tux.database.repositories.base import SQLAlchemyRepository, claim_statement
from tux.database.repositories.cached_common import guild_key, surrogate_writes
from tux.database.repositories.cached_specs import (
    FAILED,
    CacheSeam,
    Change,
    cached,
    changes_nothing,
    invalidates,
    key_of,
    uncached,
)
from tux.database.repositories.interfaces import ICaseRepository
from tux.database.repositories.support import checked, checked_required, in_list, insert_for, page_size

V = TypeVar("V")


def _case_types(case_types: Sequence[CaseType]) -> list[CaseType]:
    """Validate a collection of case types (a bare string is refused, not split into letters)."""
    given = in_list("case_types", case_types, "CaseType")
    types: list[CaseType] = [checked_required(Case, "case_type", item) for item in given]
    return types


def _next_case_number(dialect: str) -> Any:
    insert = insert_for(dialect, Guild).values(id=bindparam("guild_id"), case_count=1)
    return insert.on_conflict_do_update(
        index_elements=["id"], set_={"case_count": Guild.case_count + 1}
    ).returning(Guild.case_count)


_NEXT_CASE_NUMBER = Statement(_next_case_number, writes=True)


_CLAIM_TEMPBANS = claim_statement(
    Case,
    Case.id,
    not_(Case.case_processed),
    Case.case_expires_at,
    {"case_processed": True},
    Case.case_type == CaseType.TEMPBAN,
)
"""The claim of expired tempbans (see :meth:`CaseRepository.claim_expired_tempbans`)."""


def _case_key(region: CacheRegion[V], guild_id: object, case_number: object) -> CacheKey[V] | None:
    """Key of :meth:`CaseRepository.find_by_guild_and_number`'s arguments, by position or by name."""
    return key_of(region, guild_id, case_number)


def _each_guild(rows: object) -> Iterable[Change]:
    """The guilds of the claimed cases (every guild's when the claim failed: which is unknown)."""
    if rows is FAILED or not isinstance(rows, list):
        return [Change(n.CASE_UPDATE)]
    return [Change(n.CASE_UPDATE, guild) for guild in sorted({row.guild_id for row in rows})]


class CaseRepository(SQLAlchemyRepository[Case], ICaseRepository):
    """Cases with the queries the moderation cogs and the tempban loop need."""

    model = Case
    cache_seam = CacheSeam(kind=n.CASES, writes=surrogate_writes(n.CASE_UPDATE))  # by guild and number

    def _member_cases(
        self, guild_id: int, user_id: int, case_types: Sequence[CaseType]
    ) -> Select[tuple[Case]]:
        return (
            select(Case)
            .where(
                Case.guild_id == checked(Case, "guild_id", guild_id),
                Case.case_user_id == checked(Case, "case_user_id", user_id),
                Case.case_type.in_(_case_types(case_types)),
            )
            .order_by(Case.case_number.desc())
        )

    @cached(key=_case_key)
    async def find_by_guild_and_number(self, guild_id: int, case_number: int) -> Case | None:
        """Return case ``case_number`` of ``guild_id`` (served by the unique index)."""
        statement = select(Case).where(
            Case.guild_id == checked(Case, "guild_id", guild_id),
            Case.case_number == checked(Case, "case_number", case_number),
        )
        async with self._sessions.reading() as session:
            return (await session.scalars(statement)).one_or_none()

    @uncached
    async def find_by_user_and_type(
        self, guild_id: int, user_id: int, case_types: Sequence[CaseType]
    ) -> list[Case]:
        """Return the member's cases whose type is in ``case_types``, newest first."""
        statement = self._member_cases(guild_id, user_id, case_types)
        if not case_types:
            return []
        async with self._sessions.reading() as session:
            return list((await session.scalars(statement)).all())

    @uncached
    async def latest_of_types(
        self, guild_id: int, user_id: int, case_types: Sequence[CaseType]
    ) -> Case | None:
        """Return the member's newest case among ``case_types``, e.g. ``(JAIL, UNJAIL)``.

        The newest of a type pair tells whether the member is currently jailed / banned / ...; the
        newest case of any type would not (a WARN after a JAIL says nothing about the jail).
        """
        statement = self._member_cases(guild_id, user_id, case_types).limit(1)
        if not case_types:
            return None
        async with self._sessions.reading() as session:
            return (await session.scalars(statement)).first()

    @changes_nothing
    async def get_next_case_number(self, guild_id: int) -> int:
        """Allocate the guild's next case number in one statement, creating the guild row if needed.

        ``INSERT INTO guild (id, case_count) VALUES (:g, 1) ON CONFLICT (id) DO UPDATE SET case_count =
        guild.case_count + 1 RETURNING case_count``: atomic on both backends, and the row stays locked
        until the caller's transaction ends (call it inside ``db.transaction()`` with the case insert).
        """
        row = await self._sessions.runner.one(_NEXT_CASE_NUMBER, {"guild_id": checked(Guild, "id", guild_id)})
        assert row is not None  # an upsert always returns its row
        return int(row["case_count"])

    @invalidates(n.CASE_UPDATE, lambda result, *_, **__: _each_guild(result))
    async def claim_expired_tempbans(self, now: datetime, limit: int = 100) -> list[Case]:
        """Mark at most ``limit`` due, unprocessed tempbans processed and return them, soonest first.

        PostgreSQL locks the candidates with ``FOR UPDATE SKIP LOCKED`` so concurrent workers split
        the work; SQLite runs the statement under its single write lock. Both re-check
        ``NOT case_processed`` in the UPDATE itself, so a case is claimed exactly once.
        """
        due = checked_required(Case, "case_expires_at", now)
        claimed = await self._instances(_CLAIM_TEMPBANS, {"due_at": due, "claim_limit": page_size(limit)})
        return sorted(claimed, key=lambda case: (case.case_expires_at or due, case.id))

    @cached(key=guild_key, kind=n.CASE_STATS, shape=dict[CaseType, int])
    async def count_by_type(self, guild_id: int) -> dict[CaseType, int]:
        """Return the number of cases of every type in the guild (0 for types it never used)."""
        statement = (
            select(Case.case_type, func.count())
            .where(Case.guild_id == checked(Case, "guild_id", guild_id))
            .group_by(Case.case_type)
        )
        async with self._sessions.reading() as session:
            rows = (await session.execute(statement)).all()
        counts = dict.fromkeys(CaseType, 0)
        counts.update({CaseType(case_type): int(count) for case_type, count in rows})
        return counts

    @uncached
    async def history(
        self,
        guild_id: int,
        *,
        user_id: int | None = None,
        before_case_number: int | None = None,
        limit: int = 20,
    ) -> list[Case]:
        """Return up to ``limit`` cases newest first, optionally only ``user_id``'s.

        Keyset pagination: pass the smallest ``case_number`` of the previous page as
        ``before_case_number``; each page is an index range scan, however deep.
        """
        clauses: list[ColumnElement[bool]] = [Case.guild_id == checked(Case, "guild_id", guild_id)]
        if user_id is not None:
            clauses.append(Case.case_user_id == checked(Case, "case_user_id", user_id))
        if before_case_number is not None:
            clauses.append(Case.case_number < checked(Case, "case_number", before_case_number))
        statement = select(Case).where(*clauses).order_by(Case.case_number.desc()).limit(page_size(limit))
        async with self._sessions.reading() as session:
            return list((await session.scalars(statement)).all())

    @invalidates(
        n.CASE_UPDATE,
        lambda result, guild_id, *_, **__: [] if result is None else [Change(n.CASE_UPDATE, guild_id)],
    )
    async def void(self, guild_id: int, case_number: int, reason: str, voided_at: datetime) -> Case | None:
        """Mark the case void with ``reason``; ``None`` when it does not exist or is already void.

        One ``UPDATE ... WHERE case_status = 'ACTIVE' RETURNING``, so two moderators voiding the same
        case at once cannot both succeed.
        """
        statement = (
            update(Case)
            .where(
                Case.guild_id == checked(Case, "guild_id", guild_id),
                Case.case_number == checked(Case, "case_number", case_number),
                Case.case_status == CaseStatus.ACTIVE,
            )
            .values(
                case_status=CaseStatus.VOIDED,
                case_void_reason=checked_required(Case, "case_void_reason", reason),
                case_voided_at=checked_required(Case, "case_voided_at", voided_at),
            )
            .returning(Case)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        async with self._sessions.writing() as session:
            return (await session.scalars(statement)).one_or_none()
