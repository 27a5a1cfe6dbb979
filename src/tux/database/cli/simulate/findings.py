"""The optimizers' findings for one :class:`Database`: slow queries, N+1 runs, pool and index advice.

``db.query_optimizer`` and ``db.pool_optimizer`` watch from the moment the ``Database`` is built; at the
end :func:`collect_findings` reads them and runs ``db.index_optimizer.analyze()`` (the planner check
of every observed statement shape) while the database is still open. The figures are plain data, so
they cross process boundaries (``tux-db simulate --processes``) and go into ``--json`` as they are.
``tux-db advise`` prints the same figures for a live database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tux.database.facade import Database
from tux.database.optimization.query import QueryStats

SHOWN = 10
"""Slow statement shapes kept per process (the most slow calls first)."""
RULE_SOURCES = frozenset({"plan", "pghero"})


def _slow_query(stats: QueryStats) -> dict[str, Any]:
    return {
        "query": stats.query,
        "table": stats.table,
        "calls": stats.calls,
        "slow_calls": stats.slow_calls,
        "total_ms": stats.total_ms,
        "mean_ms": stats.mean_ms,
        "p95_ms": stats.p95_ms,
        "max_ms": stats.max_ms,
        "operations": dict(stats.operations),
    }


def _n_plus_one(db: Database) -> list[dict[str, Any]]:
    """The N+1 runs grouped by operation and shape: how many runs, the longest, the advice."""
    grouped: dict[tuple[str | None, str, str], dict[str, Any]] = {}
    for finding in db.query_optimizer.n_plus_one:
        key = (finding.operation, finding.fingerprint, finding.kind)
        entry = grouped.setdefault(
            key,
            {
                "operation": finding.operation,
                "query": finding.fingerprint,
                "kind": finding.kind,
                "runs": 0,
                "longest": 0,
                "advice": finding.advice,
            },
        )
        entry["runs"] += 1
        entry["longest"] = max(entry["longest"], finding.count)
    return sorted(grouped.values(), key=lambda entry: (entry["runs"], entry["longest"]), reverse=True)


async def _pool(db: Database) -> dict[str, Any] | None:
    optimizer = db.pool_optimizer
    if optimizer is None:
        return None
    usage = await optimizer.monitor_connection_usage()
    return {**usage, "advice": optimizer.get_pool_recommendations()}


async def _index_advice(db: Database) -> list[dict[str, Any]]:
    """Run the planner check on every observed shape; return its advice, the largest saving first."""
    await db.index_optimizer.analyze()
    recommendations = db.index_optimizer.get_index_recommendations()
    return [
        {
            "table": advice.table,
            "columns": list(advice.columns),
            "statement": advice.statement,
            "recommendation": next(
                line for line in recommendations[advice.table] if line.startswith(advice.statement)
            ),
            "validated": advice.validated,
            "method": advice.method,
            "saving": advice.saving,
            "calls": advice.calls,
            "queries": list(advice.queries),
        }
        for advice in db.index_optimizer.advice
    ]


async def collect_findings(db: Database) -> dict[str, Any]:
    """Return what the optimizers of ``db`` found so far (and the index advice the planner confirms)."""
    optimizer = db.query_optimizer
    stats = optimizer.stats()
    slow = sorted((s for s in stats if s.slow_calls), key=lambda s: s.slow_calls, reverse=True)
    rules = [
        entry for entry in optimizer.get_optimization_recommendations() if entry["source"] in RULE_SOURCES
    ]
    return {
        "monitored": optimizer.attached,
        "slow_query_threshold_ms": optimizer.slow_query_threshold_ms,
        "statements": sum(s.calls for s in stats),
        "shapes": len(stats),
        "slow_queries": [_slow_query(s) for s in slow[:SHOWN]],
        "recommendations": rules,
        "n_plus_one": _n_plus_one(db),
        "pool": await _pool(db),
        "index_advice": await _index_advice(db),
    }


@dataclass(slots=True)
class OptimizerFindings:
    """Probe of ``tux-db simulate``: the findings of one process's optimizers at the end of its run."""

    db: Database
    key: str = "optimizer"

    @classmethod
    def watch(cls, db: Database) -> OptimizerFindings:
        """The optimizers already watch ``db`` from its start; nothing to attach."""
        return cls(db)

    async def finish(self) -> dict[str, Any]:
        """Return :func:`collect_findings` of the process's database."""
        return await collect_findings(self.db)
