"""Fixed-shape statements compiled once per dialect, for the direct driver path.

A :class:`Statement` wraps a SQLAlchemy construct (a ``select``, an ``update``, a dialect ``insert``
with ``ON CONFLICT``) whose values are :func:`~sqlalchemy.bindparam` placeholders. The first time it
runs on a dialect it is compiled there, once: the SQL text SQLAlchemy renders (never hand-written),
the order of its positional parameters, the bind and result processors of each type (so a value
comes back exactly as an ORM read returns it: aware UTC datetimes, enums, JSON) and the Python-side
column defaults of an ``INSERT``. Running it afterwards only binds values in order and hands the text
to the driver, which prepares it once per connection (asyncpg's statement cache).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Float, Numeric
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeDecorator, TypeEngine

from tux.database.exceptions import ConfigurationError

Processor = Callable[[Any], Any]
Row = dict[str, Any]

_NO_VALUE = object()
_FLOAT8_OID = 701
_NUMERIC_OID = 1700


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """A statement rendered for one dialect, with what it takes to bind and read it."""

    sql: str
    parameters: tuple[tuple[str, Any, Processor | None], ...]
    """Per positional parameter: bind name, default value (``_NO_VALUE`` if required), processor."""
    columns: tuple[str, ...]
    """Keys of the returned columns, in order."""
    results: tuple[tuple[int, Processor], ...]
    """Result processors of the columns that have one, by position."""
    prefetch: tuple[tuple[str, Callable[[], Any]], ...]
    """Bind names filled from Python-side column defaults when not given."""

    def bind(self, values: Mapping[str, Any]) -> list[Any]:
        """Return the positional parameters for ``values`` (keyed by bind name), processed."""
        if self.prefetch:
            values = {**{name: make() for name, make in self.prefetch if name not in values}, **values}
        bound = []
        for name, default, process in self.parameters:
            value = values.get(name, default)
            if value is _NO_VALUE:
                raise ConfigurationError(f"statement parameter {name!r} was not given")
            bound.append(value if process is None else process(value))
        return bound

    def row(self, values: Any) -> Row:
        """Return a driver row (a sequence of column values) as a dict keyed by column."""
        row = dict(zip(self.columns, values, strict=True))
        for index, process in self.results:
            key = self.columns[index]
            row[key] = process(row[key])
        return row


class Statement:
    """A SQLAlchemy construct compiled at most once per dialect.

    Parameters
    ----------
    construct
        The statement, its variable values as named ``bindparam`` placeholders; or a function of the
        dialect name that builds it (a dialect's own ``insert`` with ``ON CONFLICT``), called once per
        dialect.
    writes
        Whether it changes data (decides whether a retry after a lost connection is safe).
    """

    __slots__ = ("_build", "_compiled", "_constructs", "writes")

    def __init__(
        self, construct: ClauseElement | Callable[[str], ClauseElement], *, writes: bool = False
    ) -> None:
        self._build = construct
        self.writes = writes
        self._constructs: dict[str, ClauseElement] = {}
        self._compiled: dict[str, CompiledStatement] = {}

    def __repr__(self) -> str:
        return f"Statement({self._build!s:.60}, writes={self.writes})"

    def construct(self, dialect_name: str) -> ClauseElement:
        """Return the SQLAlchemy construct for the dialect called ``dialect_name``."""
        known = self._constructs.get(dialect_name)
        if known is None:
            build = self._build
            known = build if isinstance(build, ClauseElement) else build(dialect_name)
            self._constructs[dialect_name] = known
        return known

    def compiled(self, dialect: Dialect) -> CompiledStatement:
        """Return the statement compiled for ``dialect`` (compiled on first use)."""
        known = self._compiled.get(dialect.name)
        if known is None:
            known = self._compiled[dialect.name] = _compile(self.construct(dialect.name), dialect)
        return known


def _compile(construct: ClauseElement, dialect: Dialect) -> CompiledStatement:
    compiled = construct.compile(dialect=dialect)
    if not isinstance(compiled, SQLCompiler) or compiled.positiontup is None:
        raise ConfigurationError(f"{dialect.name} does not compile {construct} to positional SQL")
    parameters = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.expanding:
            raise ConfigurationError("expanding IN parameters have no fixed shape; use the ORM session")
        default = _NO_VALUE if bind.required else bind.effective_value
        parameters.append((name, default, bind.type.dialect_impl(dialect).bind_processor(dialect)))
    names = {name for name, _, _ in parameters}
    prefetch = (
        *((str(column.key), _default_factory(column, column.default)) for column in compiled.insert_prefetch),
        *(
            (str(column.key), _default_factory(column, column.onupdate))
            for column in compiled.update_prefetch
        ),
    )
    if not {name for name, _ in prefetch} <= names:
        raise ConfigurationError(f"the Python-side defaults of {construct} do not bind by column name")
    exported = getattr(construct, "exported_columns", ())
    columns = tuple(str(column.key) for column in exported)
    results = []
    for index, column in enumerate(exported):
        process = column.type.dialect_impl(dialect).result_processor(dialect, _type_code(column.type))
        if process is not None:
            results.append((index, process))
    return CompiledStatement(compiled.string, tuple(parameters), columns, tuple(results), tuple(prefetch))


def _type_code(kind: TypeEngine[Any]) -> int | None:
    """Return the PostgreSQL type OID a numeric column's values arrive as (its processor depends on it).

    Elsewhere the type code is ``None``, as no other processor of these models looks at it.
    """
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    if isinstance(kind, Float):
        return _FLOAT8_OID
    if isinstance(kind, Numeric):
        return _NUMERIC_OID
    return None


def _default_factory(column: Column[Any], default: Any) -> Callable[[], Any]:
    if default is None:
        raise ConfigurationError(f"{column} has no Python-side default")
    if getattr(default, "is_scalar", False):
        value = default.arg
        return lambda: value
    if getattr(default, "is_callable", False):
        make = default.arg
        return lambda: make(None)
    raise ConfigurationError(f"the default of {column} is not a scalar or a callable")
