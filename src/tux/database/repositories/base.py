"""``SQLAlchemyRepository``: the generic implementation of :class:`IRepository` for one model."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    bindparam,
    delete,
    exists,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.schema import Column

from tux.database.core.session import SessionProvider
from tux.database.core.statements import Statement
from tux.database.exceptions import TransactionError, ValidationError
from tux.database.models.base import Base
from tux.database.models.detached import detached_instance
from tux.database.repositories.cached_specs import CacheSeam, uncached
from tux.database.repositories.filters import build_order_by, build_where, check_window
from tux.database.repositories.interfaces import IRepository
from tux.database.repositories.support import (
    GUILD_IF_MISSING,
    dialect_insert,
    insert_for,
    upsert_returning,
)
from tux.database.repositories.validation import coerce_value, field_spec, validate_payload

ModelT = TypeVar("ModelT", bound=Base)

Identity = Any
"""A primary-key value: a scalar, or a tuple in primary-key column order for composite keys."""


class SQLAlchemyRepository(IRepository[ModelT]):
    """CRUD, filtering, counting and native upserts for ``model``.

    Subclasses set :attr:`model` and add the entity's own queries.
    """

    model: ClassVar[type[Any]]
    identity_fields: ClassVar[tuple[str, ...] | None] = None
    """The order :meth:`find_by_id` takes a composite key in; defaults to the table's key order."""
    cache_seam: ClassVar[CacheSeam | None] = None
    """What the cache does with this repository's methods (:mod:`~tux.database.repositories.cached_specs`);
    ``None``: the repository is never cached."""

    def __init__(self, sessions: SessionProvider) -> None:
        self._sessions = sessions
        mapper = inspect(self.model)
        key_columns = tuple(cast("Column[Any]", column) for column in mapper.primary_key)
        by_name = {mapper.get_property_by_column(column).key: column for column in key_columns}
        if self.identity_fields is not None and set(self.identity_fields) != set(by_name):
            raise TypeError(
                f"{type(self).__name__}.identity_fields must name the primary key {tuple(by_name)}"
            )
        self._pk_names: tuple[str, ...] = self.identity_fields or tuple(by_name)
        self._pk_columns: tuple[Column[Any], ...] = tuple(by_name[name] for name in self._pk_names)
        self._upserts: dict[tuple[tuple[str, ...], ...], Statement] = {}
        self._inserts: dict[tuple[str, ...], Statement] = {}
        """The ``INSERT ... RETURNING`` of each set of given fields, compiled once (see :meth:`create`)."""
        self._by_id = Statement(
            select(*row_columns(self.model)).where(
                *(by_name[name] == bindparam(name) for name in self._pk_names)
            )
        )

    @property
    def sessions(self) -> SessionProvider:
        """The session provider this repository draws from."""
        return self._sessions

    @property
    def primary_key(self) -> tuple[str, ...]:
        """Names of the primary-key fields, in the order :meth:`find_by_id` takes them."""
        return self._pk_names

    def identity_of(self, instance: ModelT) -> Identity:
        """Return the primary-key value of ``instance`` in the form :meth:`find_by_id` takes."""
        values = tuple(getattr(instance, name) for name in self._pk_names)
        return values[0] if len(values) == 1 else values

    def _pk_values(self, identity: Identity) -> dict[str, Any]:
        """Return ``identity`` checked and coerced, by primary-key field name.

        A composite key is a tuple in :attr:`identity_fields` order or, in any order, a mapping of the
        key fields (``{"guild_id": g, "member_id": m}``), which reads the same on every table.
        """
        if isinstance(identity, Mapping):
            if set(identity) != set(self._pk_names):
                raise ValidationError(
                    f"{self.model.__name__} is keyed by ({', '.join(self._pk_names)}); got {sorted(identity)}"
                )
            identity = tuple(identity[name] for name in self._pk_names)
        values = identity if isinstance(identity, tuple) else (identity,)
        if len(values) != len(self._pk_names):
            raise ValidationError(
                f"{self.model.__name__} is keyed by ({', '.join(self._pk_names)}); got {identity!r}"
            )
        return {
            name: coerce_value(field_spec(self.model, name), value)
            for name, value in zip(self._pk_names, values, strict=True)
        }

    def _pk_where(self, identity: Identity) -> list[ColumnElement[bool]]:
        clauses: list[ColumnElement[bool]] = []
        for name, value in self._pk_values(identity).items():
            column: InstrumentedAttribute[Any] = getattr(self.model, name)
            clauses.append(column == value)
        return clauses

    async def _instances(self, statement: Statement, values: dict[str, Any]) -> list[ModelT]:
        """Return the rows of ``statement`` (it selects or returns :func:`row_columns`) as instances.

        Outside a unit of work: one prepared statement on the direct path, rows made into detached
        instances as a cache hit makes them. Inside one the unit's session runs the same construct, so
        the instances are those of its identity map, refreshed, which later writes in it refresh again.
        """
        unit = self._sessions.current()
        if unit is None:
            rows = await self._sessions.runner.all(statement, values)
            return [cast("ModelT", detached_instance(self.model, row)) for row in rows]
        if statement.writes and unit.read_only:
            raise TransactionError("write attempted in a read-only transaction")
        construct: Any = statement.construct(self._sessions.runner.dialect_name)
        loading = select(self.model).from_statement(construct).execution_options(populate_existing=True)
        async with self._sessions.writing() as session:
            return list((await session.scalars(loading, values)).all())

    def _select(self, filters: Mapping[str, object]) -> Select[tuple[ModelT]]:
        return select(self.model).where(*build_where(self.model, filters))

    def _insert(self) -> Any:
        """Return the dialect's ``insert`` construct (it has ``on_conflict_do_*``) for ``model``."""
        return dialect_insert(self._sessions, self.model)

    @uncached
    async def find_by_id(self, id: Identity) -> ModelT | None:  # noqa: A002 - public keyword of IRepository
        """Return the row with primary key ``id``, or ``None``."""
        found = await self._instances(self._by_id, self._pk_values(id))
        return found[0] if found else None

    async def _upsert_row(
        self, values: dict[str, Any], keys: tuple[str, ...], targets: tuple[str, ...], *, guild: int | None
    ) -> ModelT:
        """``INSERT values ON CONFLICT (keys) DO UPDATE SET targets RETURNING *``, compiled once per shape.

        With ``guild``, the guild row is inserted first if missing, in the same transaction. No
        ``targets`` keeps the existing row as it is (the first key is set to itself, so it is returned).
        """
        shape = (tuple(sorted(values)), keys, targets)
        statement = self._upserts.get(shape)
        if statement is None:
            build = functools.partial(_upsert_construct, self.model, *shape)
            statement = self._upserts[shape] = Statement(build, writes=True)
        runner = self._sessions.runner
        async with runner.atomic():
            if guild is not None:
                await runner.count(GUILD_IF_MISSING, {"guild_id": guild})
            [row] = await self._instances(statement, values)
        return row

    @uncached
    async def find_all(
        self,
        *,
        order_by: str | Sequence[str] | None = None,
        limit: int | None = None,
        offset: int | None = None,
        **filters: object,
    ) -> list[ModelT]:
        """Return rows matching ``filters`` (see :mod:`~tux.database.repositories.filters`)."""
        check_window(limit, offset)
        statement = self._select(filters).order_by(*build_order_by(self.model, order_by))
        statement = statement.limit(limit).offset(offset).execution_options(populate_existing=True)
        async with self._sessions.reading() as session:
            return list((await session.scalars(statement)).all())

    @uncached
    async def find_one(self, **filters: object) -> ModelT | None:
        """Return the first row matching ``filters``, or ``None``."""
        async with self._sessions.reading() as session:
            return (await session.scalars(self._select(filters).limit(1))).first()

    @uncached
    async def exists(self, **filters: object) -> bool:
        """Return whether any row matches ``filters``, without fetching rows."""
        statement = select(exists().select_from(self.model).where(*build_where(self.model, filters)))
        async with self._sessions.reading() as session:
            return bool(await session.scalar(statement))

    @uncached
    async def count(self, **filters: object) -> int:
        """Return how many rows match ``filters``."""
        statement = select(func.count()).select_from(self.model).where(*build_where(self.model, filters))
        async with self._sessions.reading() as session:
            return int(await session.scalar(statement) or 0)

    async def create(self, data: Mapping[str, object]) -> ModelT:
        """Insert a row from ``data`` and return it with defaults and generated keys filled in."""
        values = validate_payload(self.model, data, partial=False)
        shape = tuple(sorted(values))
        statement = self._inserts.get(shape)
        if statement is None:
            insert = self._insert().values({name: bindparam(name) for name in shape})
            statement = self._inserts[shape] = Statement(
                insert.returning(*row_columns(self.model)), writes=True
            )
        [created] = await self._instances(statement, values)
        return created

    async def update(self, id: Identity, data: Mapping[str, object]) -> ModelT | None:  # noqa: A002
        """Set the fields in ``data`` on row ``id``; return the updated row or ``None`` if missing."""
        values = validate_payload(self.model, data, partial=True)
        where = self._pk_where(id)
        if not values:
            return await self.find_by_id(id)
        statement = (
            update(self.model)
            .where(*where)
            .values(values)
            .returning(self.model)
            .execution_options(synchronize_session=False, populate_existing=True)
        )
        async with self._sessions.writing() as session:
            return (await session.scalars(statement)).one_or_none()

    async def delete(self, id: Identity) -> bool:  # noqa: A002
        """Delete row ``id``; return whether a row was deleted."""
        statement = delete(self.model).where(*self._pk_where(id)).execution_options(synchronize_session=False)
        async with self._sessions.writing() as session:
            result = await session.execute(statement)
            return bool(getattr(result, "rowcount", 0))

    async def upsert(
        self,
        data: Mapping[str, object],
        *,
        conflict_fields: Sequence[str] | None = None,
        update_fields: Sequence[str] | None = None,
    ) -> ModelT:
        """Insert ``data`` or, on conflict, update it, with one native ``INSERT ... ON CONFLICT``.

        Parameters
        ----------
        data
            The full row to insert.
        conflict_fields
            The unique key to detect the conflict on; defaults to the primary key.
        update_fields
            Fields overwritten on conflict; defaults to every given field outside the conflict key.
            An empty sequence keeps the existing row unchanged (insert-if-missing).
        """
        values = validate_payload(self.model, data, partial=False)
        keys = tuple(conflict_fields or self._pk_names)
        for name in keys:
            field_spec(self.model, name)
        targets = [
            name for name in (update_fields if update_fields is not None else values) if name not in keys
        ]
        for name in targets:
            field_spec(self.model, name)
        statement = upsert_returning(self._insert().values(values), keys, targets, self.model)
        async with self._sessions.writing() as session:
            return cast("ModelT", (await session.scalars(statement)).one())


def _upsert_construct(
    model: type[Any], names: tuple[str, ...], keys: tuple[str, ...], targets: tuple[str, ...], dialect: str
) -> Any:
    insert = insert_for(dialect, model).values({name: bindparam(name) for name in names})
    excluded = insert.excluded
    assignments = {name: excluded[name] for name in targets} or {keys[0]: excluded[keys[0]]}
    upsert = insert.on_conflict_do_update(index_elements=list(keys), set_=assignments)
    return upsert.returning(*row_columns(model))


def claim_statement(
    model: type[Any],
    key: InstrumentedAttribute[Any],
    unclaimed: ColumnElement[bool],
    due: InstrumentedAttribute[Any],
    mark: Mapping[str, object],
    *only: ColumnElement[bool],
) -> Statement:
    """Return the statement that claims due rows exactly once and returns them (``due_at``, ``claim_limit``).

    ``UPDATE model SET mark WHERE key IN (the first claim_limit rows matching only, unclaimed and due by
    due_at, soonest first) AND unclaimed RETURNING *``: a claimer marks rows before acting on them. On
    PostgreSQL the candidates are picked ``FOR UPDATE SKIP LOCKED``, so concurrent claimers take disjoint
    batches; on SQLite the write lock serializes them, and the outer ``unclaimed`` keeps the claim exact.
    """

    def build(dialect: str) -> Any:
        candidates = (
            select(key)
            .where(*only, unclaimed, due <= bindparam("due_at"))
            .order_by(due, key)
            .limit(bindparam("claim_limit", type_=Integer))
        )
        if dialect != "sqlite":
            candidates = candidates.with_for_update(skip_locked=True)
        claim = update(model).where(key.in_(candidates.scalar_subquery()), unclaimed).values(mark)
        return claim.returning(*row_columns(model))

    return Statement(build, writes=True)


def row_columns(model: type[Any]) -> list[ColumnElement[Any]]:
    """Return every mapped column of ``model``, labelled with its attribute name where that differs.

    Selected (or ``RETURNING``) in this form, a row keyed by column becomes the instance's ``__dict__``.
    """
    mapper = inspect(model)
    columns: list[ColumnElement[Any]] = []
    for attribute in mapper.column_attrs:
        column = cast("Column[Any]", attribute.columns[0])
        columns.append(column if column.key == attribute.key else column.label(attribute.key))
    return columns
