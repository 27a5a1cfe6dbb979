"""The indexes a database already has, and which of them are unused or duplicated (PostgreSQL).

PostgreSQL's come from ``pg_index`` (key columns in order, without ``INCLUDE`` columns) with their
size and scan count; SQLite's from ``PRAGMA index_list``/``index_info``, where a single
``INTEGER PRIMARY KEY`` is the rowid and counts as an index of its own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "IndexInfo",
    "covered",
    "duplicate_indexes",
    "postgres_indexes",
    "sqlite_indexes",
    "unused_indexes",
]


@dataclass(frozen=True, slots=True)
class IndexInfo:
    """One existing index.

    Attributes
    ----------
    table, name
        Where it is and what it is called.
    columns
        Its key columns in order (empty for an expression-only index).
    unique, primary, constraint
        Whether it enforces uniqueness, is the primary key, or backs a constraint (never droppable
        on its own).
    partial, expression
        Whether it has a ``WHERE`` predicate or indexes expressions: it then covers no plain prefix.
    method
        Access method (``btree``, ``gin``, ...).
    size_bytes, scans
        Its size and how often the planner used it since statistics were reset (PostgreSQL only).
    """

    table: str
    name: str
    columns: tuple[str, ...]
    unique: bool = False
    primary: bool = False
    constraint: bool = False
    partial: bool = False
    expression: bool = False
    method: str = "btree"
    size_bytes: int = 0
    scans: int | None = None

    @property
    def plain(self) -> bool:
        """Whether it is a B-tree over plain columns without a predicate (covers its prefixes)."""
        return self.method == "btree" and not (self.partial or self.expression)


_PG_INDEXES = text(
    """
    SELECT t.relname AS table_name, i.relname AS index_name,
      ARRAY(SELECT a.attname FROM unnest(ix.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE k.ord <= ix.indnkeyatts ORDER BY k.ord) AS columns,
      ix.indisunique AS is_unique, ix.indisprimary AS is_primary,
      EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid) AS is_constraint,
      ix.indpred IS NOT NULL AS is_partial,
      (ix.indexprs IS NOT NULL OR 0 = ANY (ix.indkey::int2[])) AS is_expression,
      am.amname AS method, pg_relation_size(i.oid) AS size_bytes, s.idx_scan AS scans
    FROM pg_index ix
    JOIN pg_class t ON t.oid = ix.indrelid
    JOIN pg_class i ON i.oid = ix.indexrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    JOIN pg_am am ON am.oid = i.relam
    LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.oid
    WHERE n.nspname = current_schema()
    ORDER BY t.relname, i.relname
    """
)


async def postgres_indexes(connection: AsyncConnection) -> list[IndexInfo]:
    """Every index of the current schema."""
    rows = (await connection.execute(_PG_INDEXES)).all()
    return [
        IndexInfo(
            table=row.table_name,
            name=row.index_name,
            columns=tuple(row.columns),
            unique=row.is_unique,
            primary=row.is_primary,
            constraint=row.is_constraint,
            partial=row.is_partial,
            expression=row.is_expression,
            method=row.method,
            size_bytes=int(row.size_bytes),
            scans=None if row.scans is None else int(row.scans),
        )
        for row in rows
    ]


def sqlite_indexes(connection: sqlite3.Connection) -> list[IndexInfo]:
    """Every index of a SQLite database, the rowid primary keys included."""
    found: list[IndexInfo] = []
    tables = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()
    for (table,) in tables:
        quoted = _quote(table)
        keys = [row[1] for row in connection.execute(f"PRAGMA table_info({quoted})") if row[5]]
        types = {row[1]: str(row[2]).upper() for row in connection.execute(f"PRAGMA table_info({quoted})")}
        if len(keys) == 1 and types.get(keys[0]) == "INTEGER":
            found.append(IndexInfo(table, "rowid", (keys[0],), unique=True, primary=True, constraint=True))
        for _seq, name, unique, origin, partial in connection.execute(f"PRAGMA index_list({quoted})"):
            info = connection.execute(f"PRAGMA index_info({_quote(name)})").fetchall()
            columns = tuple(row[2] for row in info if row[2] is not None)
            found.append(
                IndexInfo(
                    table,
                    name,
                    columns,
                    unique=bool(unique),
                    primary=origin == "pk",
                    constraint=origin in ("pk", "u"),
                    partial=bool(partial),
                    expression=len(columns) < len(info),
                )
            )
    return found


def covered(table: str, columns: Sequence[str], indexes: Sequence[IndexInfo]) -> IndexInfo | None:
    """The existing index whose leading columns are ``columns`` (so it serves them already), if any."""
    wanted = tuple(columns)
    for index in indexes:
        if index.table == table and index.plain and index.columns[: len(wanted)] == wanted:
            return index
    return None


def unused_indexes(indexes: Sequence[IndexInfo]) -> list[IndexInfo]:
    """Indexes never scanned since statistics were reset that enforce nothing (PgHero's rule)."""
    return [
        index
        for index in indexes
        if index.scans == 0 and not (index.unique or index.primary or index.constraint)
    ]


def duplicate_indexes(indexes: Sequence[IndexInfo]) -> list[tuple[IndexInfo, IndexInfo]]:
    """``(redundant, covering)`` pairs: the first's columns lead the second's, so it can be dropped.

    Only plain B-trees are compared, and an index that enforces uniqueness is never the redundant one.
    """
    pairs: list[tuple[IndexInfo, IndexInfo]] = []
    for redundant in indexes:
        if not redundant.plain or redundant.unique or redundant.constraint or not redundant.columns:
            continue
        for other in indexes:
            same = other.columns == redundant.columns
            if (
                other is not redundant
                and other.table == redundant.table
                and other.plain
                and other.columns[: len(redundant.columns)] == redundant.columns
                and not (same and not other.unique and other.name > redundant.name)
            ):
                pairs.append((redundant, other))
                break
    return pairs


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
