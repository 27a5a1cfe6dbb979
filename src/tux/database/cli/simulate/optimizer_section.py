"""The report's optimizer section: every process's findings (see :mod:`.findings`) merged into one.

Slow statement shapes add up their calls, slow calls and time over the processes (the max and the p95
are the worst process's); rule advice and N+1 runs are merged by statement shape, counting how many
processes reported them; pool figures stay per process (each process has its own pool); index advice
is merged by its ``CREATE INDEX`` statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import RenderableType
from rich.table import Table

from tux.database.cli.simulate.findings import SHOWN
from tux.database.cli.simulate.runner import SimulationResult

WIDTH = 80
"""Characters of a statement shape shown in the terminal (``--json`` has them whole)."""


def _merge_slow(processes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for process in processes:
        for shape in process["slow_queries"]:
            into = merged.get(shape["query"])
            if into is None:
                merged[shape["query"]] = {**shape, "operations": dict(shape["operations"])}
                continue
            for total in ("calls", "slow_calls", "total_ms"):
                into[total] += shape[total]
            for worst in ("max_ms", "p95_ms"):
                into[worst] = max(into[worst], shape[worst])
            for operation, count in shape["operations"].items():
                into["operations"][operation] = into["operations"].get(operation, 0) + count
    for shape in merged.values():
        shape["mean_ms"] = shape["total_ms"] / shape["calls"] if shape["calls"] else 0.0
    return sorted(merged.values(), key=lambda shape: shape["slow_calls"], reverse=True)[:SHOWN]


WORST = ("longest", "saving", "avg_time", "slow_rate")
"""Figures of a merged entry that are the largest any process reported."""


def _merge_by(
    processes: Iterable[Mapping[str, Any]], part: str, key: tuple[str, ...], add: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Entries of ``part`` merged by the fields ``key``: ``add`` summed, :data:`WORST` the largest.

    Each merged entry counts the ``processes`` that reported it.
    """
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for process in processes:
        for entry in process[part]:
            identity = tuple(str(entry[name]) for name in key)
            into = merged.get(identity)
            if into is None:
                merged[identity] = {**entry, "processes": 1}
                continue
            into["processes"] += 1
            for name in add:
                if name in entry:
                    into[name] += entry[name]
            for name in WORST:
                if name in entry:
                    into[name] = max(into[name], entry[name])
    return list(merged.values())


class OptimizerSection:
    """Slow queries, N+1 runs, pool and index advice from ``db.query_optimizer`` and friends."""

    key = "optimizer"
    title = "Optimizer findings (query monitor, N+1, pool, planner-checked indexes)"

    def figures(self, result: SimulationResult) -> dict[str, Any]:
        """Return this section's figures."""
        processes = [(shard.shard, shard.probes["optimizer"]) for shard in result.shards]
        found = [figures for _, figures in processes]
        return {
            "monitored": all(figures["monitored"] for figures in found),
            "slow_query_threshold_ms": max((f["slow_query_threshold_ms"] for f in found), default=0.0),
            "statements": sum(figures["statements"] for figures in found),
            "slow_queries": _merge_slow(found),
            "recommendations": _merge_by(found, "recommendations", ("query", "issue"), ("calls",)),
            "n_plus_one": _merge_by(found, "n_plus_one", ("operation", "query", "kind"), ("runs",)),
            "pool": [
                {"shard": shard, **figures["pool"]}
                for shard, figures in processes
                if figures["pool"] is not None
            ],
            "index_advice": _merge_by(found, "index_advice", ("statement",), ("calls",)),
        }

    def render(self, figures: Mapping[str, Any]) -> RenderableType:
        """Return this section's table."""
        table = Table(title=self.title, title_justify="left", title_style="bold")
        for column in ("finding", "where", "figures", "advice"):
            table.add_column(column, overflow="fold")
        threshold = figures["slow_query_threshold_ms"]
        if not figures["monitored"]:
            table.add_row("query monitor", "-", "off (TUX_DB_QUERY_MONITOR_ENABLED=false)", "")
        for shape in figures["slow_queries"]:
            table.add_row(
                f"slow query (>= {threshold:g} ms)",
                shorten(shape["query"]),
                f"{shape['slow_calls']} of {shape['calls']} slow, mean {shape['mean_ms']:.1f} ms, "
                f"max {shape['max_ms']:.1f} ms",
                "",
            )
        for rule in figures["recommendations"]:
            table.add_row(
                f"{rule['issue']} ({rule['source']})", shorten(rule["query"]), "", rule["recommendation"]
            )
        for run in figures["n_plus_one"]:
            kind = "N+1 writes" if run["kind"] == "single_row_write" else "N+1 reads"
            table.add_row(
                kind,
                f"{run['operation'] or '-'}: {shorten(run['query'])}",
                f"{run['runs']} run(s), longest {run['longest']} in a row",
                run["advice"],
            )
        for pool in figures["pool"]:
            table.add_row(
                "pool" if len(figures["pool"]) == 1 else f"pool (process {pool['shard']})",
                f"size {pool['pool_size']} + overflow {pool['max_overflow']}",
                f"peak {pool['peak_usage']}, {pool['checkouts']} checkouts, {pool['waits']} waits, "
                f"{pool['timeouts']} timeouts, hold p95 {pool['hold_p95'] * 1000:.1f} ms",
                "; ".join(pool["advice"]) or "no change needed",
            )
        for index in figures["index_advice"]:
            label = "index" if index["validated"] else "index (UNVALIDATED heuristic)"
            table.add_row(
                label,
                index["statement"],
                f"{index['method']}, {index['saving']:.0%} less cost, {index['calls']} call(s)",
                "",
            )
        if not (figures["slow_queries"] or figures["recommendations"] or figures["n_plus_one"]):
            table.add_row("queries", f"{figures['statements']} statements", "no slow query, no N+1", "")
        if not figures["index_advice"]:
            table.add_row("indexes", "-", "no index the planner confirms", "")
        return table


def shorten(query: str) -> str:
    """``query`` on one line, cut to :data:`WIDTH` characters."""
    text = " ".join(query.split())
    return text[:WIDTH] + ("..." if len(text) > WIDTH else "")
