"""Member status rebuilt from imported cases: the same rule the moderation service applies.

For each member and each restriction (ban, jail, snippet ban, poll ban, timeout), the member's newest
active case among the restriction's case types decides the column (:class:`Restriction.value_after`).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from tux.database.models import Case, CaseStatus, MemberStatus, utcnow
from tux.database.services.moderation_rules import RESTRICTION_OF, Restriction

RESTRICTIONS: tuple[Restriction, ...] = tuple(dict.fromkeys(RESTRICTION_OF.values()))


def status_of(cases: Iterable[Case]) -> dict[str, Any] | None:
    """Return the member-status columns ``cases`` (one member's, oldest first) leave; ``None`` if none."""
    deciding: dict[Restriction, Case] = {}
    for case in cases:
        restriction = RESTRICTION_OF.get(case.case_type)
        if restriction is not None:
            deciding[restriction] = case
    if not deciding:
        return None
    return {
        restriction.field: restriction.value_after(deciding.get(restriction)) for restriction in RESTRICTIONS
    }


async def rebuild_member_status(connection: AsyncConnection) -> int:
    """Rewrite the status of every member with a restricting case; return how many members."""
    statement = (
        select(Case.guild_id, Case.case_user_id, Case.case_type, Case.case_expires_at, Case.case_processed)
        .where(Case.case_status == CaseStatus.ACTIVE)
        .order_by(Case.guild_id, Case.case_user_id, Case.case_number)
    )
    rows: list[dict[str, Any]] = []
    result = await connection.execute(statement)
    for (guild_id, member_id), group in groupby(result.all(), key=lambda row: (row[0], row[1])):
        cases = (
            Case(
                case_type=row.case_type,
                case_expires_at=row.case_expires_at,
                case_processed=row.case_processed,
            )
            for row in group
        )
        status = status_of(cases)
        if status is not None:
            rows.append({"guild_id": guild_id, "member_id": member_id, "updated_at": utcnow(), **status})
    if rows:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(MemberStatus.__table__)
        replaced = [name for name in rows[0] if name not in ("guild_id", "member_id")]
        await connection.execute(
            insert.on_conflict_do_update(
                index_elements=["guild_id", "member_id"],
                set_={name: insert.excluded[name] for name in replaced},
            ),
            rows,
        )
    return len(rows)
