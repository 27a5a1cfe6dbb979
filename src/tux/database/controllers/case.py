"""``db.controller.case``: Tux's Prisma-era ``CaseController`` over ``db.cases`` and ``db.moderation``."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from typing import Any

from tux.database.controllers.base import LegacyController, legacy
from tux.database.exceptions import UnknownFieldError, ValidationError
from tux.database.models import Case, CaseStatus, CaseType

NEWEST_FIRST = ("-case_created_at", "-case_number")

_RENAMED = {"case_id": "id", "case_tempban_expired": "case_processed"}
_PRISMA_OPERATORS = {"equals": "eq", "not": "ne", "in": "in", "notIn": "not_in"} | {
    name: name for name in ("lt", "lte", "gt", "gte")
}
_ACTIONS = {
    CaseType.BAN: "ban_user",
    CaseType.UNBAN: "unban_user",
    CaseType.HACKBAN: "hackban_user",
    CaseType.KICK: "kick_user",
    CaseType.WARN: "warn_user",
    CaseType.UNTIMEOUT: "untimeout_user",
    CaseType.SNIPPETBAN: "snippetban_user",
    CaseType.SNIPPETUNBAN: "snippetunban_user",
    CaseType.POLLBAN: "pollban_user",
    CaseType.POLLUNBAN: "pollunban_user",
}
_RESTRICTIONS = {
    (CaseType.BAN, CaseType.UNBAN): "is_banned",
    (CaseType.JAIL, CaseType.UNJAIL): "is_jailed",
    (CaseType.SNIPPETBAN, CaseType.SNIPPETUNBAN): "is_snippet_banned",
    (CaseType.POLLBAN, CaseType.POLLUNBAN): "is_poll_banned",
}


def case_filters(options: Mapping[str, object]) -> dict[str, Any]:
    """Translate a Prisma ``CaseWhereInput`` of plain fields into ``find_all`` filters.

    ``{"case_type": ..., "case_expires_at": {"lt": ...}}`` becomes ``case_type=...,
    case_expires_at__lt=...``; Prisma's column names are renamed to ours.
    """
    filters: dict[str, Any] = {}
    for name, value in options.items():
        field = _RENAMED.get(name, name)
        if not isinstance(value, Mapping):
            filters[field] = value
            continue
        for operator, operand in value.items():
            if operator not in _PRISMA_OPERATORS:
                raise UnknownFieldError(f"{name}: Prisma operator {operator!r} has no equivalent")
            filters[f"{field}__{_PRISMA_OPERATORS[operator]}"] = operand
    return filters


class CaseController(LegacyController):
    """Moderation cases with the methods and arguments of Tux's ``CaseController``."""

    @legacy("db.cases.get_next_case_number")
    async def get_next_case_number(self, guild_id: int) -> int:
        """Allocate and return the guild's next case number."""
        return await self._db.cases.get_next_case_number(guild_id)

    @legacy("db.moderation.<action>_user (ban_user, jail_user, tempban_user, ...)")
    async def insert_case(  # noqa: PLR0917 - Tux's signature
        self,
        guild_id: int,
        case_user_id: int,
        case_moderator_id: int,
        case_type: CaseType | str,
        case_reason: str,
        case_user_roles: list[int] | None = None,
        case_expires_at: datetime | None = None,
        case_tempban_expired: bool = False,
    ) -> Case:
        """Record a case through ``db.moderation``: numbered, member status updated and audited."""
        kind = _case_type(case_type)
        record = functools.partial(
            self._record,
            kind,
            guild_id,
            case_user_id,
            case_reason,
            case_moderator_id,
            roles=case_user_roles,
            expires_at=case_expires_at,
        )
        if not case_tempban_expired:
            return await record()  # the service's own transaction, with its retry policy
        async with self._db.transaction("legacy.case.insert_case"):
            case = await record()
            return await self._db.cases.update(case.id, {"case_processed": True}) or case

    async def _record(
        self,
        kind: CaseType,
        guild_id: int,
        user_id: int,
        reason: str,
        moderator_id: int,
        *,
        roles: list[int] | None,
        expires_at: datetime | None,
    ) -> Case:
        moderation = self._db.moderation
        if kind in (CaseType.TEMPBAN, CaseType.TIMEOUT):
            record = moderation.tempban_user if kind == CaseType.TEMPBAN else moderation.timeout_user
            return await record(guild_id, user_id, reason, moderator_id, _required(expires_at, kind))
        if kind == CaseType.JAIL:
            return await moderation.jail_user(guild_id, user_id, reason, moderator_id, roles or [])
        if kind == CaseType.UNJAIL:
            case, _ = await moderation.unjail_user(guild_id, user_id, reason, moderator_id)
            return case
        action: Callable[..., Coroutine[Any, Any, Case]] = getattr(moderation, _ACTIONS[kind])
        return await action(guild_id, user_id, reason, moderator_id)

    @legacy("db.cases.find_by_id")
    async def get_case_by_id(self, case_id: int, include_guild: bool = False) -> Case | None:
        """Return the case with primary key ``case_id`` (``include_guild`` is accepted and ignored)."""
        return await self._db.cases.find_by_id(case_id)

    @legacy("db.cases.history")
    async def get_all_cases(self, guild_id: int) -> list[Case]:
        """Return every case of the guild, newest first."""
        return await self._db.cases.find_all(guild_id=guild_id, order_by=NEWEST_FIRST)

    @legacy("db.cases.find_all")
    async def get_cases_by_options(self, guild_id: int, options: Mapping[str, object]) -> list[Case]:
        """Return the guild's cases matching ``options`` (a Prisma where-input of plain fields)."""
        return await self._db.cases.find_all(
            guild_id=guild_id, order_by=NEWEST_FIRST, **case_filters(options)
        )

    @legacy("db.cases.find_by_guild_and_number")
    async def get_case_by_number(
        self, guild_id: int, case_number: int, include_guild: bool = False
    ) -> Case | None:
        """Return case ``case_number`` of the guild."""
        return await self._db.cases.find_by_guild_and_number(guild_id, case_number)

    @legacy("db.cases.history")
    async def get_all_cases_by_user_id(
        self, guild_id: int, case_user_id: int, limit: int | None = None, include_guild: bool = False
    ) -> list[Case]:
        """Return the member's cases, newest first."""
        return await self._db.cases.find_all(
            guild_id=guild_id, case_user_id=case_user_id, order_by=NEWEST_FIRST, limit=limit
        )

    @legacy("db.cases.find_all")
    async def get_all_cases_by_moderator_id(
        self, guild_id: int, case_moderator_id: int, limit: int | None = None
    ) -> list[Case]:
        """Return the cases a moderator issued, newest first."""
        return await self._db.cases.find_all(
            guild_id=guild_id, case_moderator_id=case_moderator_id, order_by=NEWEST_FIRST, limit=limit
        )

    @legacy("db.cases.latest_of_types")
    async def get_latest_case_by_user(
        self, guild_id: int, user_id: int, case_types: list[CaseType]
    ) -> Case | None:
        """Return the member's newest case among ``case_types``.

        Tux's version returned ``None`` when the newest case of any type was not one of ``case_types``
        (a warning after a jail hid the jail); this one looks at ``case_types`` only.
        """
        return await self._db.cases.latest_of_types(guild_id, user_id, case_types)

    @legacy("db.moderation.void_case (status) / db.cases.update (reason)")
    async def update_case(
        self, guild_id: int, case_number: int, case_reason: str, case_status: bool | None = None
    ) -> Case | None:
        """Set the case's reason; ``case_status=False`` voids it (member status recomputed, audited)."""
        async with self._db.transaction("legacy.case.update_case"):
            case = await self._db.cases.find_by_guild_and_number(guild_id, case_number)
            if case is None:
                return None
            if case_status is False and case.case_status == CaseStatus.ACTIVE:
                await self._db.moderation.void_case(
                    guild_id, case_number, case_reason, case.case_moderator_id
                )
            changes: dict[str, Any] = {"case_reason": case_reason}
            if case_status:
                changes["case_status"] = CaseStatus.ACTIVE
            return await self._db.cases.update(case.id, changes)

    @legacy("db.cases.delete")
    async def delete_case_by_number(self, guild_id: int, case_number: int) -> Case | None:
        """Delete case ``case_number`` of the guild and return it."""
        async with self._db.transaction("legacy.case.delete_case_by_number"):
            case = await self._db.cases.find_by_guild_and_number(guild_id, case_number)
            if case is None:
                return None
            return await self._delete_returning(self._db.cases, case.id)

    @legacy("db.moderation.process_expired_tempbans")
    async def get_expired_tempbans(self) -> list[Case]:
        """Return due tempbans not yet processed (without claiming them)."""
        return await self._db.cases.find_all(
            case_type=CaseType.TEMPBAN, case_expires_at__lt=datetime.now(UTC), case_processed=False
        )

    @legacy("db.moderation.process_expired_tempbans")
    async def set_tempban_expired(self, case_number: int | None, guild_id: int) -> int | None:
        """Mark the tempban processed; 1 when it was found, ``None`` otherwise."""
        if case_number is None:
            raise ValidationError("case_number: a case number is required")
        async with self._db.transaction("legacy.case.set_tempban_expired"):
            case = await self._db.cases.find_by_guild_and_number(guild_id, case_number)
            if case is None or await self._db.cases.update(case.id, {"case_processed": True}) is None:
                return None
            return 1

    @legacy("db.guilds.delete (cascades)")
    async def bulk_delete_cases_by_guild_id(self, guild_id: int) -> int:
        """Delete every case of the guild; return how many."""
        return await self._delete_matching(self._db.cases, guild_id=guild_id)

    @legacy("db.cases.count_by_type")
    async def count_cases_by_guild_id(self, guild_id: int) -> int:
        """Return how many cases the guild has."""
        return await self._db.cases.count(guild_id=guild_id)

    @legacy("db.cases.count")
    async def count_cases_by_user_id(self, guild_id: int, user_id: int) -> int:
        """Return how many cases the member has."""
        return await self._db.cases.count(guild_id=guild_id, case_user_id=user_id)

    @legacy("db.moderation.is_banned / is_jailed / is_snippet_banned / is_poll_banned")
    async def is_user_under_restriction(
        self,
        guild_id: int,
        user_id: int,
        active_restriction_type: CaseType,
        inactive_restriction_type: CaseType,
    ) -> bool:
        """Return whether the member's newest case of the pair is the restricting one.

        The four pairs the moderation service tracks are answered from the member's status (voided
        cases and tempban expiry taken into account); any other pair from the latest case.
        """
        pair = (_case_type(active_restriction_type), _case_type(inactive_restriction_type))
        check = _RESTRICTIONS.get(pair)
        if check is not None:
            flag: Callable[[int, int], Coroutine[Any, Any, bool]] = getattr(self._db.moderation, check)
            return await flag(guild_id, user_id)
        latest = await self._db.cases.latest_of_types(guild_id, user_id, pair)
        return latest is not None and latest.case_type == pair[0]


def _case_type(value: CaseType | str) -> CaseType:
    try:
        return CaseType(value)
    except ValueError:
        raise ValidationError(f"case_type: unknown case type {value!r}") from None


def _required(expires_at: datetime | None, kind: CaseType) -> datetime:
    if expires_at is None:
        raise ValidationError(f"case_expires_at: a {kind.value} case needs an expiry")
    return expires_at
