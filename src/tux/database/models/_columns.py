"""Column types and CHECK builders shared by the models, so every rule is spelled the same way.

SQLite ignores ``VARCHAR(n)`` and has no unsigned or enum types, so each limit the schema relies on is
also a named CHECK; ``length()`` counts characters on both backends.
"""

from __future__ import annotations

from enum import Enum as PyEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ColumnElement, Connection, Enum, Index, event
from sqlalchemy.dialects.postgresql import JSONB

JsonType = JSON().with_variant(JSONB(), "postgresql")
"""Portable JSON: ``JSONB`` on PostgreSQL, ``JSON`` (text) on SQLite."""


def text_enum(enum_class: type[PyEnum], name: str, length: int) -> Enum:
    """Return a ``VARCHAR(length)`` enum column type guarded by a CHECK named ``ck_<table>_<name>``."""
    return Enum(enum_class, native_enum=False, create_constraint=True, length=length, name=name)


def positive(column: str) -> CheckConstraint:
    """``column > 0``: Discord snowflakes and 1-based numbers are never zero or negative."""
    return CheckConstraint(f"{column} > 0", name=f"{column}_positive")


def non_negative(column: str) -> CheckConstraint:
    """``column >= 0``: counters and amounts never go below zero."""
    return CheckConstraint(f"{column} >= 0", name=f"{column}_non_negative")


def between(column: str, low: int, high: int) -> CheckConstraint:
    """``column BETWEEN low AND high``: bounded numbers such as permission ranks."""
    return CheckConstraint(f"{column} BETWEEN {low} AND {high}", name=f"{column}_range")


def length_between(column: str, low: int, high: int) -> CheckConstraint:
    """Bound the character length of a text column; ``low=0`` allows the empty string."""
    condition = f"length({column}) <= {high}" if low == 0 else f"length({column}) BETWEEN {low} AND {high}"
    return CheckConstraint(condition, name=f"{column}_length")


_WHERE = "tux_partial_where"
"""Key of a partial index's predicate in its ``info``."""


def partial_index(name: str, *columns: str, where: ColumnElement[bool]) -> Index:
    """Return the index ``name`` of the rows ``where`` holds for, on both backends.

    The predicate is given to PostgreSQL here and to SQLite when the index is created on SQLite:
    naming ``sqlite_where`` here would make SQLAlchemy import its SQLite dialect (to check the keyword)
    in every process, on PostgreSQL too.
    """
    index = Index(name, *columns, postgresql_where=where, info={_WHERE: where})
    event.listen(index, "before_create", _where_on_sqlite)
    return index


def _where_on_sqlite(index: Index, connection: Connection, **_: Any) -> None:
    if connection.dialect.name == "sqlite":
        index.dialect_options["sqlite"]["where"] = index.info[_WHERE]
