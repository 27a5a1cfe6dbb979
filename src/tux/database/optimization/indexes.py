"""``IndexOptimizer``: index advice the planner has confirmed, and the indexes that are not pulling weight.

It takes the statement shapes the :class:`~tux.database.optimization.query.QueryOptimizer` observed
(each with one real statement and its parameters) and the plan's ``analyze_query_patterns(table,
where_clauses)``, finds the columns each filters, joins and sorts on
(:mod:`~tux.database.optimization.predicates`), drops candidates an existing index already serves with
its leading columns, and keeps only those the planner confirms (:mod:`~tux.database.optimization.planner`):

>>> await db.index_optimizer.analyze()
>>> db.index_optimizer.get_index_recommendations()
{'cases': ['CREATE INDEX CONCURRENTLY ix_cases_case_reason ON cases (case_reason) -- planner cost ...']}

Nothing is created unless :meth:`IndexOptimizer.create_index` is called. Without HypoPG on PostgreSQL
the advice is a heuristic (a sequential scan of a large table filtered on the column), labelled
``validated=False`` and "UNVALIDATED" in the statement's comment.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from loguru import logger
from sqlalchemy.ext.asyncio import AsyncConnection

from tux.database.exceptions import ConfigurationError
from tux.database.optimization import catalog
from tux.database.optimization.catalog import IndexInfo
from tux.database.optimization.fingerprint import shape_of
from tux.database.optimization.planner import (
    HypoPlanner,
    ScratchPlanner,
    Trial,
    choose,
    index_ddl,
    quote,
    seq_scanned,
)
from tux.database.optimization.query import ObservedStatement, QueryOptimizer, unobserved

if TYPE_CHECKING:
    from tux.database.core.client import DatabaseClient
    from tux.database.optimization.predicates import TableUse

__all__ = ["IndexAdvice", "IndexOptimizer"]

_ANALYZED_KINDS = frozenset({"select", "with", "update", "delete"})
_COLUMN = re.compile(r'^\s*"?([A-Za-z_][\w$]*)"?')


@dataclass(slots=True)
class IndexAdvice:
    """One index worth creating.

    Attributes
    ----------
    table, columns
        Where and on what.
    statement
        The ``CREATE INDEX`` (``CONCURRENTLY`` on PostgreSQL) statement, without the comment.
    validated
        Whether the planner confirmed it (HypoPG or SQLite's plan); ``False`` for the heuristic.
    method
        ``"hypopg"``, ``"sqlite-plan"`` or ``"heuristic"``.
    cost_before, cost_after
        Planner cost of the statement that gained the most, without and with the index (SQLite: the
        plan-shape proxy, see :mod:`~tux.database.optimization.planner`).
    plan_before, plan_after
        What the plans said (node type, or SQLite's plan lines).
    queries
        Fingerprints of the statement shapes it serves.
    calls
        How often those ran (or were reported through ``analyze_query_patterns``).
    """

    table: str
    columns: tuple[str, ...]
    statement: str
    validated: bool
    method: str
    cost_before: float
    cost_after: float
    plan_before: str
    plan_after: str
    queries: list[str] = field(default_factory=list)
    calls: int = 0

    @property
    def saving(self) -> float:
        """Share of the planner's cost the index saves on the statement that gains the most."""
        return 1 - self.cost_after / self.cost_before if self.cost_before > 0 else 0.0

    def describe(self) -> str:
        """The estimated saving in words (the comment after the statement)."""
        served = f"{len(self.queries)} query shape(s), {self.calls} call(s)"
        if not self.validated:
            return f"UNVALIDATED heuristic (HypoPG not installed): {self.plan_before}; {served}"
        if self.method == "sqlite-plan":
            return f"plan {self.plan_before!r} -> {self.plan_after!r}; {served}"
        return (
            f"planner cost {self.cost_before:.1f} -> {self.cost_after:.1f} ({self.saving:.0%} less); {served}"
        )


class IndexOptimizer:
    """Planner-checked index advice for one database.

    Parameters
    ----------
    client
        The database to check against; without one, :meth:`analyze` can only rank the patterns given
        to :meth:`analyze_query_patterns` and labels all of it unvalidated.
    queries
        Where the observed statements come from (``db.query_optimizer``).
    min_calls
        Statement shapes (and patterns) seen fewer times are not considered.
    heuristic_min_rows
        Without HypoPG, a sequential scan counts only on a table the planner estimates this large.
    use_hypopg
        Ask HypoPG (creating its extension in the database when the server has it); ``False`` gives
        the unvalidated heuristic on PostgreSQL.
    """

    def __init__(
        self,
        client: DatabaseClient | None = None,
        queries: QueryOptimizer | None = None,
        *,
        min_calls: int = 1,
        heuristic_min_rows: int = 1000,
        use_hypopg: bool = True,
    ) -> None:
        self._use_hypopg = use_hypopg
        self._client = client
        self._queries = queries
        self._min_calls = min_calls
        self._heuristic_min_rows = heuristic_min_rows
        self._patterns: dict[str, dict[str, int]] = {}
        self._uses: dict[str, list[TableUse]] = {}
        self._advice: dict[tuple[str, tuple[str, ...]], IndexAdvice] = {}

    def analyze_query_patterns(self, table: str, where_clauses: list[str]) -> None:
        """Count that ``table`` was filtered on these columns (``"guild_id"`` or ``"guild_id = ?"``)."""
        counts = self._patterns.setdefault(table, {})
        for clause in where_clauses:
            match = _COLUMN.match(clause)
            if match is not None:
                counts[match.group(1)] = counts.get(match.group(1), 0) + 1

    @property
    def advice(self) -> list[IndexAdvice]:
        """The advice of the last :meth:`analyze`, the largest saving first."""
        return sorted(self._advice.values(), key=lambda a: (a.validated, a.saving, a.calls), reverse=True)

    def get_index_recommendations(self) -> dict[str, list[str]]:
        """``{table: ["CREATE INDEX ... -- estimated saving"]}`` from the last :meth:`analyze`."""
        found: dict[str, list[str]] = {}
        for advice in self.advice:
            found.setdefault(advice.table, []).append(f"{advice.statement} -- {advice.describe()}")
        return found

    async def analyze(self) -> list[IndexAdvice]:
        """Check every collected candidate with the planner; replace the previous advice."""
        self._advice = {}
        client = self._client
        if client is None:
            self._rank_patterns_unchecked()
            return self.advice
        with unobserved():
            if client.backend == "postgresql":
                await self._analyze_postgres(client)
            else:
                await self._analyze_sqlite(client)
        self._drop_prefixes()
        return self.advice

    async def existing_indexes(self) -> list[IndexInfo]:
        """Every index the database has."""
        client = self._require_client()
        with unobserved():
            async with client.engine.connect() as connection:
                if client.backend == "postgresql":
                    return await catalog.postgres_indexes(connection)
                scratch = await _scratch_copy(connection)
        try:
            return catalog.sqlite_indexes(scratch.connection)
        finally:
            scratch.close()

    async def unused_indexes(self) -> list[IndexInfo]:
        """PostgreSQL indexes never scanned since statistics were reset and enforcing nothing.

        SQLite keeps no scan counts: always ``[]`` there.
        """
        return catalog.unused_indexes(await self.existing_indexes())

    async def duplicate_indexes(self) -> list[tuple[IndexInfo, IndexInfo]]:
        """``(redundant, covering)`` pairs: the first is a leading prefix of the second."""
        return catalog.duplicate_indexes(await self.existing_indexes())

    async def create_index(self, advice: IndexAdvice) -> None:
        """Create the advised index (``CONCURRENTLY`` on PostgreSQL, so writes go on meanwhile)."""
        client = self._require_client()
        with unobserved():
            engine = client.engine
            if client.backend == "postgresql":
                engine = engine.execution_options(isolation_level="AUTOCOMMIT")
            async with engine.connect() as connection:
                await connection.exec_driver_sql(advice.statement)
                if client.backend != "postgresql":
                    await connection.commit()
        self._advice.pop((advice.table, advice.columns), None)

    def _require_client(self) -> DatabaseClient:
        if self._client is None:
            raise ConfigurationError("this IndexOptimizer has no database client")
        return self._client

    def _statements(self) -> list[ObservedStatement]:
        if self._queries is None:
            return []
        return [
            observed
            for observed in self._queries.observed_statements()
            if observed.calls >= self._min_calls
            and observed.shape.kind in _ANALYZED_KINDS
            and isinstance(observed.parameters, tuple | dict)
        ]

    def _uses_of(self, observed: ObservedStatement, backend: str) -> list[TableUse]:
        uses = self._uses.get(observed.shape.fingerprint)
        if uses is None:
            from tux.database.optimization.predicates import table_uses  # noqa: PLC0415 - sqlglot on demand

            uses = self._uses[observed.shape.fingerprint] = table_uses(observed.sql, backend)
        return uses

    async def _pattern_statements(
        self, connection: AsyncConnection, placeholder: str
    ) -> list[ObservedStatement]:
        """One ``SELECT * ... WHERE column = <a real value>`` per reported pattern, for the planner."""
        made: list[ObservedStatement] = []
        for table, columns in self._patterns.items():
            for column, count in columns.items():
                if count < self._min_calls:
                    continue
                probe = (
                    f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote(column)} IS NOT NULL LIMIT 1"
                )
                try:
                    value = (await connection.exec_driver_sql(probe)).scalar()
                except Exception as error:  # noqa: BLE001 - unknown table or column: nothing to advise
                    logger.debug("Index pattern {}.{} skipped: {}", table, column, type(error).__name__)
                    await connection.rollback()
                    continue
                if value is not None:
                    sql = f"SELECT * FROM {quote(table)} WHERE {quote(column)} = {placeholder}"
                    made.append(ObservedStatement(shape_of(sql), sql, (value,), count, 0.0))
        return made

    async def _analyze_postgres(self, client: DatabaseClient) -> None:
        async with client.engine.execution_options(isolation_level="AUTOCOMMIT").connect() as connection:
            existing = await catalog.postgres_indexes(connection)
            if self._use_hypopg:
                planner = await HypoPlanner.open(connection)
            else:
                planner = HypoPlanner(connection, hypothetical=False)
            try:
                statements = [*self._statements(), *await self._pattern_statements(connection, "$1")]
                for observed in statements:
                    try:
                        await self._check_postgres(planner, observed, existing)
                    except Exception as error:  # noqa: BLE001 - one statement the planner refuses
                        logger.debug("Index check skipped {}: {!r}", observed.shape.id, error)
            finally:
                await planner.close()

    async def _check_postgres(
        self, planner: HypoPlanner, observed: ObservedStatement, existing: Sequence[IndexInfo]
    ) -> None:
        for use in self._uses_of(observed, "postgresql"):
            singles = _singles(use, existing)
            if not singles:
                continue
            cost, plan = await planner.explain(observed.sql, observed.parameters)
            base = Trial((), cost, str(plan.get("Node Type", "")))
            if not planner.hypothetical:
                rows = await planner.table_rows(use.table)
                if seq_scanned(plan, use.table) and rows >= self._heuristic_min_rows:
                    scan = f"sequential scan of ~{rows:.0f} rows"
                    self._record(
                        use.table,
                        Trial((singles[0],), cost, ""),
                        base,
                        observed,
                        method="heuristic",
                        detail=scan,
                    )
                continue
            cost_of = planner.cost_with(use.table, observed.sql, observed.parameters)
            winner = await choose(cost_of, base, singles, partial(_pairs, use, existing=existing))
            if winner is not None:
                self._record(use.table, winner, base, observed, method="hypopg")

    async def _analyze_sqlite(self, client: DatabaseClient) -> None:
        async with client.engine.connect() as connection:
            planner = await _scratch_copy(connection)
            patterns = await self._pattern_statements(connection, "?")
        try:
            existing = catalog.sqlite_indexes(planner.connection)
            for observed in [*self._statements(), *patterns]:
                try:
                    await self._check_sqlite(planner, observed, existing)
                except Exception as error:  # noqa: BLE001 - one statement the scratch copy refuses
                    logger.debug("Index check skipped {}: {!r}", observed.shape.id, error)
        finally:
            planner.close()

    async def _check_sqlite(
        self, planner: ScratchPlanner, observed: ObservedStatement, existing: Sequence[IndexInfo]
    ) -> None:
        for use in self._uses_of(observed, "sqlite"):
            singles = _singles(use, existing)
            if not singles:
                continue
            base = planner.trial(use.names, observed.sql, observed.parameters)
            cost_of = planner.cost_with(use.table, use.names, observed.sql, observed.parameters)
            winner = await choose(cost_of, base, singles, partial(_pairs, use, existing=existing))
            if winner is not None:
                self._record(use.table, winner, base, observed, method="sqlite-plan")

    def _record(
        self,
        table: str,
        winner: Trial,
        base: Trial,
        observed: ObservedStatement,
        *,
        method: str,
        detail: str | None = None,
    ) -> None:
        key = (table, winner.columns)
        advice = self._advice.get(key)
        if advice is None or (advice.cost_before - advice.cost_after) < (base.cost - winner.cost):
            previous = advice
            advice = self._advice[key] = IndexAdvice(
                table=table,
                columns=winner.columns,
                statement=index_ddl(table, winner.columns, concurrently=self._concurrently),
                validated=method != "heuristic",
                method=method,
                cost_before=base.cost,
                cost_after=winner.cost,
                plan_before=detail or base.plan,
                plan_after=winner.plan,
            )
            if previous is not None:
                advice.queries, advice.calls = previous.queries, previous.calls
        if observed.shape.fingerprint not in advice.queries:
            advice.queries.append(observed.shape.fingerprint)
            advice.calls += observed.calls

    @property
    def _concurrently(self) -> bool:
        return self._client is not None and self._client.backend == "postgresql"

    def _rank_patterns_unchecked(self) -> None:
        """Without a database: the plan's rule (a column filtered more than 10 times), unvalidated."""
        for table, columns in self._patterns.items():
            for column, count in columns.items():
                if count > 10:
                    self._advice[(table, (column,))] = IndexAdvice(
                        table=table,
                        columns=(column,),
                        statement=index_ddl(table, (column,)),
                        validated=False,
                        method="heuristic",
                        cost_before=0.0,
                        cost_after=0.0,
                        plan_before=f"filtered {count} times, no planner to ask",
                        plan_after="",
                        queries=[f"{table}.{column}"],
                        calls=count,
                    )

    def _drop_prefixes(self) -> None:
        """A single-column advice is dropped when a wider advice on the same table starts with it."""
        for table, columns in list(self._advice):
            if any(
                other_table == table and len(other) > len(columns) and other[: len(columns)] == columns
                for other_table, other in self._advice
            ):
                del self._advice[(table, columns)]


def _unique(columns: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(columns))


def _singles(use: TableUse, existing: Sequence[IndexInfo]) -> list[str]:
    """Single-column candidates an existing index does not already lead with."""
    wanted = _unique([*use.equality, *use.joins, *use.ranges, *use.order[:1]])
    return [column for column in wanted if catalog.covered(use.table, (column,), existing) is None]


def _pairs(use: TableUse, first: str, existing: Sequence[IndexInfo]) -> list[tuple[str, str]]:
    """Two-column candidates after an equality (or join) column: equality, then range, then sort."""
    if first not in use.equality and first not in use.joins:
        return []
    seconds = _unique([*use.equality, *use.ranges, *use.order[:1]])
    return [
        (first, second)
        for second in seconds
        if second != first and catalog.covered(use.table, (first, second), existing) is None
    ]


async def _scratch_copy(connection: AsyncConnection) -> ScratchPlanner:
    """An in-memory SQLite database with the schema (and planner statistics) of ``connection``'s."""
    schema = await connection.exec_driver_sql(
        "SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND type IN ('table', 'index') AND name NOT LIKE 'sqlite_%'"
    )
    objects = [(str(row[0]), str(row[1])) for row in schema]
    analyzed = await connection.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
    stats: list[tuple[str, str | None, str]] = []
    if analyzed.scalar():
        rows = await connection.exec_driver_sql("SELECT tbl, idx, stat FROM sqlite_stat1")
        stats = [(str(row[0]), row[1], str(row[2])) for row in rows]
    return ScratchPlanner(objects, stats)
