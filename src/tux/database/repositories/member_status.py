"""``MemberStatusRepository``: a member's current restrictions, answerable by one primary-key read.

A moderation action sets only the flags it is about (a jail sets ``is_jailed``, a timeout sets
``timed_out_until``), so :meth:`MemberStatusRepository.set_status` upserts exactly the given fields and
leaves the others as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from tux.database.caching import names as n
from tux.database.caching.region import CacheKey, CacheRegion
from tux.database.exceptions import ValidationError
from tux.database.models import MemberStatus, utcnow
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.cached_common import guild_first, member_seam
from tux.database.repositories.cached_specs import Change, cached, invalidates, key_of
from tux.database.repositories.interfaces import IMemberStatusRepository
from tux.database.repositories.support import checked
from tux.database.repositories.validation import validate_payload

V = TypeVar("V")

_MANAGED_FIELDS = frozenset({"guild_id", "member_id", "updated_at"})


def _status_key(region: CacheRegion[V], guild_id: object, member_id: object) -> CacheKey[V] | None:
    """Key of :meth:`MemberStatusRepository.get_status`'s arguments, given by position or by name."""
    return key_of(region, guild_id, member_id)


class MemberStatusRepository(SQLAlchemyRepository[MemberStatus], IMemberStatusRepository):
    """Member status rows, keyed by ``(guild_id, member_id)``."""

    model = MemberStatus
    cache_seam = member_seam(n.MEMBER_STATUS, n.MEMBER_STATUS_UPDATE, guild_first)  # key by guild, member

    @invalidates(
        n.MEMBER_STATUS_UPDATE,
        lambda result, guild_id, member_id, data: [Change(n.MEMBER_STATUS_UPDATE, guild_id, member_id)],
    )
    async def set_status(self, guild_id: int, member_id: int, data: Mapping[str, object]) -> MemberStatus:
        """Set the fields in ``data`` (and ``updated_at``) on the member's row, creating it if missing.

        The guild row is ensured and the status upserted with ``INSERT ... ON CONFLICT (guild_id,
        member_id) DO UPDATE`` in one transaction; fields not in ``data`` keep their current value (or
        their default on a new row).

        Raises
        ------
        ValidationError
            ``data`` is empty, names an unknown field or a key/managed field, or has a wrong value.
        """
        guild = checked(MemberStatus, "guild_id", guild_id)
        member = checked(MemberStatus, "member_id", member_id)
        values = validate_payload(MemberStatus, data, partial=True)
        managed = sorted(_MANAGED_FIELDS & values.keys())
        if managed:
            raise ValidationError(f"member_status: {', '.join(managed)} cannot be set through data")
        if not values:
            raise ValidationError("member_status: data names no field to set")
        row = {"guild_id": guild, "member_id": member, "updated_at": utcnow(), **values}
        return await self._upsert_row(row, ("guild_id", "member_id"), (*values, "updated_at"), guild=guild)

    @cached(
        key=_status_key,
        load=lambda repository, guild_id, member_id: repository.find_by_id((guild_id, member_id)),
    )
    async def get_status(self, guild_id: int, member_id: int) -> MemberStatus | None:
        """Return the member's status row, or ``None`` if no action ever touched the member."""
        return await self.find_by_id((guild_id, member_id))
