"""``PermissionRankRepository``: a guild's staff ranks, the roles granting them, and command minimums.

Three tables, one aggregate: ``permission_ranks`` (rank numbers and names), ``permission_assignments``
(role -> rank, one rank per role) and ``permission_commands`` (command -> required rank). A permission
check is one aggregate query (:meth:`PermissionRankRepository.member_rank`) plus one scalar read
(:meth:`PermissionRankRepository.command_rank`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import BigInteger, func, literal, select

from tux.database.exceptions import NotFoundError, ValidationError
from tux.database.models import PermissionAssignment, PermissionCommand, PermissionRank
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.interfaces import IPermissionRankRepository
from tux.database.repositories.support import (
    checked,
    checked_required,
    dialect_insert,
    in_list,
    insert_guild_if_missing,
    upsert_returning,
)
from tux.database.repositories.validation import column_specs, validate_payload


def _rank_rows(guild_id: int, ranks: object) -> list[dict[str, object]]:
    """Validate ``ranks`` for ``guild_id`` and give every row the same keys (a multi-row VALUES needs it)."""
    if isinstance(ranks, (str, bytes)) or not isinstance(ranks, Sequence):
        raise ValidationError("ranks: expected a sequence of mappings")
    rows: list[dict[str, object]] = []
    for item in ranks:
        if not isinstance(item, Mapping):
            raise ValidationError(f"ranks: expected mappings, got {type(item).__name__}")
        if "id" in item or item.get("guild_id", guild_id) != guild_id:
            raise ValidationError("ranks: id and guild_id are set by the repository")
        rows.append(validate_payload(PermissionRank, {**item, "guild_id": guild_id}, partial=False))
    keys = set().union(*rows) if rows else set()
    specs = column_specs(PermissionRank)
    for row in rows:
        for name in keys - row.keys():
            if not specs[name].nullable:
                raise ValidationError(f"ranks: give {name} for every rank or for none")
            row[name] = None
    return rows


def _role_ids(role_ids: object) -> list[int]:
    given = in_list("role_ids", role_ids, "role ids")
    ids: list[int] = [checked_required(PermissionAssignment, "role_id", role_id) for role_id in given]
    return ids


class PermissionRankRepository(SQLAlchemyRepository[PermissionRank], IPermissionRankRepository):
    """Ranks (the generic CRUD is on ``permission_ranks``), role assignments and command requirements."""

    model = PermissionRank

    async def ranks_of_guild(self, guild_id: int) -> list[PermissionRank]:
        """Return the guild's ranks, lowest first."""
        statement = (
            select(PermissionRank)
            .where(PermissionRank.guild_id == checked(PermissionRank, "guild_id", guild_id))
            .order_by(PermissionRank.rank)
        )
        async with self._sessions.reading() as session:
            return list((await session.scalars(statement)).all())

    async def ensure_ranks(self, guild_id: int, ranks: Sequence[Mapping[str, object]]) -> int:
        """Insert the ranks whose number the guild lacks; existing ranks keep their name.

        One ``INSERT ... ON CONFLICT (guild_id, rank) DO NOTHING RETURNING id`` after ensuring the guild
        row; returns the number of rows actually inserted.
        """
        key = checked(PermissionRank, "guild_id", guild_id)
        rows = _rank_rows(key, ranks)
        if not rows:
            return 0
        statement = (
            dialect_insert(self._sessions, PermissionRank)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["guild_id", "rank"])
            .returning(PermissionRank.id)
        )
        async with self._sessions.writing() as session:
            await insert_guild_if_missing(self._sessions, session, key)
            return len((await session.execute(statement)).all())

    async def assign_role(self, guild_id: int, role_id: int, rank: int) -> PermissionAssignment:
        """Make ``role_id`` grant rank ``rank`` of the guild, replacing the role's previous rank.

        ``INSERT ... SELECT id FROM permission_ranks WHERE guild_id = :g AND rank = :r ON CONFLICT
        (guild_id, role_id) DO UPDATE``: the rank is looked up and the assignment written in one
        statement, and only a rank of the same guild can be assigned.

        Raises
        ------
        NotFoundError
            The guild has no rank ``rank``.
        """
        guild = checked(PermissionAssignment, "guild_id", guild_id)
        role = checked(PermissionAssignment, "role_id", role_id)
        number = checked(PermissionRank, "rank", rank)
        source = select(literal(guild, BigInteger), PermissionRank.id, literal(role, BigInteger)).where(
            PermissionRank.guild_id == guild, PermissionRank.rank == number
        )
        insert = dialect_insert(self._sessions, PermissionAssignment).from_select(
            ["guild_id", "permission_rank_id", "role_id"], source
        )
        statement = upsert_returning(
            insert, ("guild_id", "role_id"), ("permission_rank_id",), PermissionAssignment
        )
        async with self._sessions.writing() as session:
            assignment: PermissionAssignment | None = (await session.scalars(statement)).one_or_none()
        if assignment is None:
            raise NotFoundError(f"guild {guild} has no permission rank {number}")
        return assignment

    async def assigned_roles(self, guild_id: int) -> dict[int, list[int]]:
        """Return the role ids granting each rank of the guild, ranks and role ids ascending."""
        guild = checked(PermissionAssignment, "guild_id", guild_id)
        statement = (
            select(PermissionRank.rank, PermissionAssignment.role_id)
            .join(PermissionAssignment, PermissionAssignment.permission_rank_id == PermissionRank.id)
            .where(PermissionAssignment.guild_id == guild, PermissionRank.guild_id == guild)
            .order_by(PermissionRank.rank, PermissionAssignment.role_id)
        )
        async with self._sessions.reading() as session:
            rows = (await session.execute(statement)).all()
        roles: dict[int, list[int]] = {}
        for rank, role_id in rows:
            roles.setdefault(rank, []).append(role_id)
        return roles

    async def member_rank(self, guild_id: int, role_ids: Sequence[int]) -> int:
        """Return the highest rank granted by any of ``role_ids`` in the guild, 0 when none grants one."""
        guild = checked(PermissionAssignment, "guild_id", guild_id)
        roles = _role_ids(role_ids)
        if not roles:
            return 0
        statement = (
            select(func.max(PermissionRank.rank))
            .join(PermissionAssignment, PermissionAssignment.permission_rank_id == PermissionRank.id)
            .where(
                PermissionAssignment.guild_id == guild,
                PermissionRank.guild_id == guild,
                PermissionAssignment.role_id.in_(roles),
            )
        )
        async with self._sessions.reading() as session:
            highest = await session.scalar(statement)
        return int(highest) if highest is not None else 0

    async def set_command_rank(
        self, guild_id: int, command_name: str, required_rank: int
    ) -> PermissionCommand:
        """Require ``required_rank`` for ``command_name`` in the guild (upsert on the command name)."""
        guild = checked(PermissionCommand, "guild_id", guild_id)
        insert = dialect_insert(self._sessions, PermissionCommand).values(
            guild_id=guild,
            command_name=checked(PermissionCommand, "command_name", command_name),
            required_rank=checked(PermissionCommand, "required_rank", required_rank),
        )
        statement = upsert_returning(
            insert, ("guild_id", "command_name"), ("required_rank",), PermissionCommand
        )
        async with self._sessions.writing() as session:
            await insert_guild_if_missing(self._sessions, session, guild)
            command: PermissionCommand = (await session.scalars(statement)).one()
            return command

    async def command_rank(self, guild_id: int, command_name: str) -> int | None:
        """Return the rank ``command_name`` needs in the guild, ``None`` when the guild set none."""
        statement = select(PermissionCommand.required_rank).where(
            PermissionCommand.guild_id == checked(PermissionCommand, "guild_id", guild_id),
            PermissionCommand.command_name == checked(PermissionCommand, "command_name", command_name),
        )
        async with self._sessions.reading() as session:
            return (await session.scalars(statement)).one_or_none()
