"""Ask the planner whether an index would help one statement, without creating it.

PostgreSQL: ``EXPLAIN`` with hypothetical indexes from HypoPG, which exist only in the planner of the
one session that made them (nothing is written, nothing is locked). SQLite: ``EXPLAIN QUERY PLAN`` on
a scratch in-memory copy of the schema (and of ``sqlite_stat1``), where the candidate index is really
created; the real database is never touched.

Both answer :class:`Trial` "what would this statement cost with an index on these columns", and
:func:`choose` applies Dexter's rule to the answers: keep the best single column only if it brings the
cost below half, and a second column only if it halves the cost again. SQLite has no cost figures, so
its cost is a proxy read off the plan's shape: a full ``SCAN`` of the table is 1, a ``SEARCH`` using
``k`` columns of an index 0.4**k (one column passes the rule, and a second passes it again only if
the search really uses it), and a temporary B-tree for ``ORDER BY`` multiplies it by 1.5.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["HypoPlanner", "ScratchPlanner", "Trial", "choose", "index_ddl"]

CANDIDATE = "tux_candidate_ix"
_PLAN_LINE = re.compile(r"^(SCAN|SEARCH) (\S+)")
_TERMS = re.compile(r"\(([^)]*)\)\s*$")


@dataclass(frozen=True, slots=True)
class Trial:
    """A statement's cost with (or without) a candidate index, and what the plan said."""

    columns: tuple[str, ...]
    cost: float
    plan: str


Cost = Callable[[tuple[str, ...]], Awaitable[Trial | None]]


async def choose(
    cost_of: Cost, base: Trial, singles: Sequence[str], pairs: Callable[[str], Sequence[tuple[str, str]]]
) -> Trial | None:
    """Dexter's rule: the best single column below half of ``base``, widened if that halves it again."""
    best: Trial | None = None
    for column in singles:
        trial = await cost_of((column,))
        if trial is not None and (best is None or trial.cost < best.cost):
            best = trial
    if best is None or best.cost >= base.cost * 0.5:
        return None
    widened = best
    for pair in pairs(best.columns[0]):
        trial = await cost_of(pair)
        if trial is not None and trial.cost < best.cost * 0.5 and trial.cost < widened.cost:
            widened = trial
    return widened


def quote(identifier: str) -> str:
    """Quote an identifier for both dialects."""
    return '"' + identifier.replace('"', '""') + '"'


def index_ddl(
    table: str, columns: Sequence[str], *, name: str | None = None, concurrently: bool = False
) -> str:
    """``CREATE INDEX [CONCURRENTLY] name ON table (columns)``; unquoted where plain lower-case names."""
    index_name = name or index_name_for(table, columns)
    keyword = "CREATE INDEX CONCURRENTLY" if concurrently else "CREATE INDEX"
    listed = ", ".join(_ident(column) for column in columns)
    return f"{keyword} {_ident(index_name)} ON {_ident(table)} ({listed})"


def index_name_for(table: str, columns: Sequence[str]) -> str:
    """The project's naming convention ``ix_<table>_<columns>``, cut to PostgreSQL's 63 bytes."""
    return f"ix_{table}_{'_'.join(columns)}"[:63]


def _ident(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_]*", name) else quote(name)


class HypoPlanner:
    """Statement costs on PostgreSQL, with hypothetical indexes when HypoPG is there.

    Use on a connection in autocommit (the hypothetical indexes live in that session only), and call
    :meth:`close` at the end, which drops any that are left.
    """

    def __init__(self, connection: AsyncConnection, hypothetical: bool) -> None:
        self._connection = connection
        self.hypothetical = hypothetical

    @classmethod
    async def open(cls, connection: AsyncConnection) -> HypoPlanner:
        """Use HypoPG when the server has it: its extension is created in the database if missing."""
        available = await connection.scalar(
            text("SELECT installed_version IS NOT NULL FROM pg_available_extensions WHERE name = 'hypopg'")
        )
        if available is False:
            try:
                await connection.execute(text("CREATE EXTENSION IF NOT EXISTS hypopg"))
                available = True
            except Exception:  # noqa: BLE001 - no privilege: fall back to the labelled heuristic
                available = False
        return cls(connection, hypothetical=bool(available))

    async def explain(self, sql: str, parameters: Any) -> tuple[float, dict[str, Any]]:
        """The planner's total cost of ``sql`` with ``parameters``, and its plan tree."""
        result = await self._connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", parameters)
        document: Any = result.scalar()
        plan: dict[str, Any] = document[0]["Plan"]
        return float(plan["Total Cost"]), plan

    def cost_with(self, table: str, sql: str, parameters: Any) -> Cost:
        """The function :func:`choose` calls: cost of ``sql`` with a hypothetical index on ``table``."""

        async def cost_of(columns: tuple[str, ...]) -> Trial | None:
            ddl = index_ddl(table, columns, name=CANDIDATE)
            oid = await self._connection.scalar(
                text("SELECT indexrelid FROM hypopg_create_index(:ddl)"), {"ddl": ddl}
            )
            try:
                cost, plan = await self.explain(sql, parameters)
            finally:
                await self._connection.execute(text("SELECT hypopg_drop_index(:oid)"), {"oid": oid})
            return Trial(columns, cost, plan.get("Node Type", ""))

        return cost_of

    async def table_rows(self, table: str) -> float:
        """The planner's row estimate of ``table`` (``pg_class.reltuples``)."""
        rows = await self._connection.scalar(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:name)"), {"name": quote(table)}
        )
        return float(rows or 0)

    async def close(self) -> None:
        """Drop every hypothetical index of this session."""
        if self.hypothetical:
            await self._connection.execute(text("SELECT hypopg_reset()"))


def seq_scanned(plan: dict[str, Any], table: str) -> bool:
    """Whether ``plan`` reads ``table`` with a sequential scan somewhere."""
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") == table:
        return True
    return any(seq_scanned(child, table) for child in plan.get("Plans", ()))


class ScratchPlanner:
    """``EXPLAIN QUERY PLAN`` on an in-memory copy of a SQLite schema.

    It holds no rows, so each plan takes microseconds and runs on the event loop's thread.
    """

    def __init__(
        self, schema: Sequence[tuple[str, str]], stats: Sequence[tuple[str, str | None, str]]
    ) -> None:
        self.connection = sqlite3.connect(":memory:")
        for kind in ("table", "index"):
            for object_kind, sql in schema:
                if object_kind == kind:
                    self.connection.execute(sql)
        if stats:
            self.connection.execute("ANALYZE")
            self.connection.executemany("INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", stats)
            self.connection.execute("ANALYZE sqlite_master")  # reloads the copied statistics

    def plan(self, sql: str, parameters: Any) -> list[str]:
        """The plan's detail lines."""
        return [row[3] for row in self.connection.execute(f"EXPLAIN QUERY PLAN {sql}", parameters)]

    def trial(self, names: set[str], sql: str, parameters: Any, columns: tuple[str, ...] = ()) -> Trial:
        """Cost proxy (see the module's docstring) of ``sql`` for the table known by ``names``."""
        lines = self.plan(sql, parameters)
        cost = 1.5 if any("TEMP B-TREE FOR ORDER BY" in line for line in lines) else 1.0
        for line in lines:
            match = _PLAN_LINE.match(line)
            if match is None or match.group(2) not in names:
                continue
            if match.group(1) == "SEARCH":
                terms = _TERMS.search(line)
                cost *= 0.4 ** (terms.group(1).count(" AND ") + 1 if terms else 1)
            return Trial(columns, cost, "; ".join(lines))
        return Trial(columns, cost, "; ".join(lines))

    def cost_with(self, table: str, names: set[str], sql: str, parameters: Any) -> Cost:
        """The function :func:`choose` calls: the proxy cost with a real index on the scratch copy."""

        async def cost_of(columns: tuple[str, ...]) -> Trial | None:
            self.connection.execute(index_ddl(table, columns, name=CANDIDATE))
            try:
                trial = self.trial(names, sql, parameters, columns)
            finally:
                self.connection.execute(f"DROP INDEX {CANDIDATE}")
            if CANDIDATE not in trial.plan:
                return None
            return Trial(columns, trial.cost, trial.plan.replace(CANDIDATE, index_name_for(table, columns)))

        return cost_of

    def close(self) -> None:
        """Discard the scratch copy."""
        self.connection.close()
