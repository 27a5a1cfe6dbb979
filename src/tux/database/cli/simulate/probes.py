"""Probes: per-process observers whose figures join the simulation's result.

A probe is made for each process's :class:`Database` before the workload starts and asked for its
figures (plain, picklable data) when it ends; the figures of all processes land in
``SimulationResult.probes[probe.key]`` as a list, one entry per process, where a report section
(:mod:`tux.database.cli.simulate.report`) picks them up. New findings (the query, pool and index
optimizers') join the report as one more probe here and one more section there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from tux.database.cli.simulate.findings import OptimizerFindings
from tux.database.core.observe import StatementRecord
from tux.database.facade import Database

TOP_STATEMENTS = 8


class Probe(Protocol):
    """Watches one process's database while the workload runs."""

    key: str

    async def finish(self) -> Any:
        """Stop watching; return this process's figures (may ask the database, which is still open)."""
        ...


@dataclass(slots=True)
class _Shape:
    count: int = 0
    seconds: float = 0.0


@dataclass(slots=True)
class StatementShapes:
    """Count and total time per SQL text (parameters are placeholders, so one text is one shape)."""

    key: str = "statement_shapes"
    shapes: dict[str, _Shape] = field(default_factory=dict)
    _unsubscribe: Callable[[], None] | None = None

    @classmethod
    def watch(cls, db: Database) -> StatementShapes:
        """Start counting the statements of ``db``."""
        probe = cls()
        probe._unsubscribe = db.client.statements.subscribe(probe._record)
        return probe

    def _record(self, record: StatementRecord) -> None:
        if not record.is_control:
            shape = self.shapes.get(record.sql)
            if shape is None:
                shape = self.shapes[record.sql] = _Shape()
            shape.count += 1
            shape.seconds += record.elapsed

    async def finish(self) -> dict[str, list[float]]:
        """Return ``{sql: [count, seconds]}`` of every shape seen."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        return {sql: [shape.count, shape.seconds] for sql, shape in self.shapes.items()}


PROBES: list[Callable[[Database], Probe]] = [StatementShapes.watch, OptimizerFindings.watch]
"""Made in every process of a simulation; append a factory to add findings."""
