"""The report's built-in sections, from what ran to the invariants."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

from rich.console import RenderableType
from rich.table import Table

from tux.database.cli.simulate.figures import (
    latency_summary,
    merged_cache_types,
    merged_chat,
    merged_operations,
    percentile,
)
from tux.database.cli.simulate.runner import SimulationResult
from tux.database.settings import redact_url

MB = 1024 * 1024


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for index, column in enumerate(columns):
        table.add_column(column, justify="left" if index == 0 else "right")
    return table


def _ms(value: float) -> str:
    return f"{value:.2f}"


class RunSection:
    """What ran where, and how fast."""

    key = "run"
    title = "Run"

    def figures(self, result: SimulationResult) -> dict[str, Any]:
        """Return this section's figures."""
        config = result.config
        completed = sum(shard.completed for shard in result.shards)
        return {
            "backend": result.backend,
            "database_url": redact_url(config.database_url),
            "redis_url": None if config.redis_url is None else redact_url(config.redis_url),
            "seed": config.seed,
            "guilds": config.guilds,
            "members_per_guild": config.members,
            "processes": config.processes,
            "workers_per_process": config.workers,
            "duration_limit_s": config.duration,
            "messages": completed,
            "setup_s": result.setup_seconds,
            "elapsed_s": result.elapsed,
            "messages_per_s": completed / result.elapsed if result.elapsed else 0.0,
        }

    def render(self, figures: Mapping[str, Any]) -> RenderableType:
        """Return this section's table."""
        table = _table(self.title, "what", "value")
        for name in ("backend", "database_url", "redis_url", "seed", "guilds", "members_per_guild"):
            table.add_row(name, str(figures[name]))
        table.add_row("processes x workers", f"{figures['processes']} x {figures['workers_per_process']}")
        table.add_row("chat messages handled", str(figures["messages"]))
        table.add_row("setup (migrate + seed)", f"{figures['setup_s']:.2f} s")
        table.add_row("run", f"{figures['elapsed_s']:.2f} s, {figures['messages_per_s']:.0f} messages/s")
        return table


class OperationsSection:
    """Per operation: count and latency, served by the cache vs by the database."""

    key = "operations"
    title = "Operations (ms; cached = no database statement)"

    def figures(self, result: SimulationResult) -> dict[str, Any]:
        """Return this section's figures."""
        return {
            name: {
                "cached": latency_summary(samples.cached),
                "database": latency_summary(samples.database),
                "statements": samples.statements,
                "errors": dict(samples.errors),
            }
            for name, samples in merged_operations(result).items()
        }

    def render(self, figures: Mapping[str, Any]) -> RenderableType:
        """Return this section's table."""
        table = _table(
            self.title,
            "operation",
            "count",
            "cached",
            "p50 / p95 / p99",
            "database",
            "p50 / p95 / p99",
            "errors",
        )
        for name, op in figures.items():
            cached, database = op["cached"], op["database"]
            errors = ", ".join(f"{kind} {count}" for kind, count in op["errors"].items()) or "-"
            table.add_row(
                name,
                str(cached["count"] + database["count"] + sum(op["errors"].values())),
                str(cached["count"]),
                _latencies(cached),
                str(database["count"]),
                _latencies(database),
                errors,
            )
        return table


def _latencies(summary: Mapping[str, float]) -> str:
    if not summary["count"]:
        return "-"
    return " / ".join(_ms(summary[p]) for p in ("p50_ms", "p95_ms", "p99_ms"))


class CacheSection:
    """Hit rate per cached type, and where the hits were served."""

    key = "cache"
    title = "Cache (per type; hits per level)"

    def figures(self, result: SimulationResult) -> dict[str, Any]:
        """Return this section's figures."""
        types = merged_cache_types(result)
        served = sum(kind["served"] for kind in types.values())
        missed = sum(kind["missed"] for kind in types.values())
        return {
            "hit_rate": served / (served + missed) if served + missed else 0.0,
            "served": served,
            "missed": missed,
            "per_type": types,
            "invalidations_sent": sum(shard.cache["invalidations_sent"] for shard in result.shards),
            "level_errors": sum(sum(shard.cache["level_errors"].values()) for shard in result.shards),
        }

    def render(self, figures: Mapping[str, Any]) -> RenderableType:
        """Return this section's table."""
        table = _table(self.title, "type", "lookups", "hit rate", "memory", "redis", "database", "loads")
        for kind, stats in figures["per_type"].items():
            hits = stats["hits"]
            table.add_row(
                kind,
                str(stats["served"] + stats["missed"]),
                f"{stats['hit_rate']:.1%}",
                *(str(hits.get(level, 0)) for level in ("memory", "redis", "database")),
                str(stats["loads"]),
            )
        table.add_row(
            "[bold]all[/]",
            str(figures["served"] + figures["missed"]),
            f"[bold]{figures['hit_rate']:.1%}[/]",
            "",
            "",
            "",
            "",
        )
        return table


class TransactionsSection:
    """Transactions as the monitor counted them."""

    key = "transactions"
    title = "Transactions"

    def figures(self, result: SimulationResult) -> dict[str, Any]:
        """Return this section's figures."""
        totals = [shard.transactions["totals"] for shard in result.shards]
        total = sum(t["total_transactions"] for t in totals)
        failed = sum(t["failed_transactions"] for t in totals)
        failures: dict[str, int] = {}
        for shard in result.shards:
            for name, stats in shard.transactions["operations"].items():
                if stats["failed"]:
                    failures[name] = failures.get(name, 0) + stats["failed"]
        return {
            "total": total,
            "failed": failed,
            "retried": sum(t["retried_transactions"] for t in totals),
            "long_running": sum(t["long_running_transactions"] for t in totals),
            "success_rate": (total - failed) / total if total else 1.0,
            "failed_by_operation": failures,
        }

    def render(self, figures: Mapping[str, Any]) -> RenderableType:
        """Return this section's table."""
        table = _table(self.title, "what", "value")
        table.add_row("transactions", str(figures["total"]))
        table.add_row("failed", str(figures["failed"]))
        table.add_row("retries", str(figures["retried"]))
        table.add_row("long-running", str(figures["long_running"]))
        table.add_row("success rate", f"{figures['success_rate']:.3%}")
        for name, count in figures["failed_by_operation"].items():
            table.add_row(f"  failed: {name}", str(count))
        return table


class StatementsSection:
    """Statements per chat message and the statement shapes that took the most time."""

    key = "statements"
    title = "Database statements"
    shown = 8

    def figures(self, result: SimulationResult) -> dict[str, Any]:
        """Return this section's figures."""
        chat = merged_chat(result)
        shapes: dict[str, list[float]] = {}
        for shard in result.shards:
            for sql, (count, seconds) in shard.probes.get("statement_shapes", {}).items():
                into = shapes.setdefault(sql, [0, 0.0])
                into[0] += count
                into[1] += seconds
        top = sorted(shapes.items(), key=lambda item: item[1][1], reverse=True)[: self.shown]
        return {
            "chat_messages": chat.messages,
            "per_chat_message": chat.data_statements / chat.messages if chat.messages else 0.0,
            "round_trips_per_chat_message": chat.round_trips / chat.messages if chat.messages else 0.0,
            "total": int(sum(count for count, _ in shapes.values())),
            "top_by_time": [
                {
                    "sql": sql,
                    "count": int(count),
                    "total_ms": seconds * 1000,
                    "mean_ms": seconds * 1000 / count,
                }
                for sql, (count, seconds) in top
            ],
        }

    def render(self, figures: Mapping[str, Any]) -> RenderableType:
        """Return this section's table."""
        table = _table(self.title, "statement", "count", "total ms", "mean ms")
        table.add_row(
            "[bold]per chat message[/] (prefix, AFK checks, XP)", f"{figures['per_chat_message']:.2f}", "", ""
        )
        table.add_row(
            "  with the control statements the driver reports (BEGIN, PRAGMA, ...)",
            f"{figures['round_trips_per_chat_message']:.2f}",
            "",
            "",
        )
        for shape in figures["top_by_time"]:
            sql = " ".join(shape["sql"].split())
            table.add_row(
                sql[:90] + ("..." if len(sql) > 90 else ""),
                str(shape["count"]),
                f"{shape['total_ms']:.0f}",
                _ms(shape["mean_ms"]),
            )
        return table


class MemorySection:
    """Peak RSS of each process and the bytes its memory cache holds."""

    key = "memory"
    title = "Memory per process"

    def figures(self, result: SimulationResult) -> dict[str, Any]:
        """Return this section's figures."""
        return {
            "processes": [
                {
                    "shard": shard.shard,
                    "peak_rss_bytes": shard.peak_rss_bytes,
                    "cache_bytes": shard.cache["memory_bytes"],
                    "cache_entries": shard.cache["memory_entries"],
                    "evictions": shard.cache["evictions"],
                }
                for shard in result.shards
            ]
        }

    def render(self, figures: Mapping[str, Any]) -> RenderableType:
        """Return this section's table."""
        table = _table(self.title, "process", "peak RSS", "cache bytes", "cache entries", "evictions")
        for process in figures["processes"]:
            table.add_row(
                str(process["shard"]),
                f"{process['peak_rss_bytes'] / MB:.1f} MB",
                f"{process['cache_bytes'] / MB:.2f} MB",
                str(process["cache_entries"]),
                str(process["evictions"]),
            )
        return table


class SuccessMetricsSection:
    """The plan's success metrics, pass or fail."""

    key = "success_metrics"
    title = "Success metrics (the plan's targets)"

    def figures(self, result: SimulationResult) -> list[dict[str, Any]]:
        """Return this section's figures."""
        operations = merged_operations(result).values()
        cached = list(itertools.chain.from_iterable(op.cached for op in operations))
        database = list(itertools.chain.from_iterable(op.database for op in operations))
        cache = CacheSection().figures(result)
        transactions = TransactionsSection().figures(result)
        cache_mb = max((shard.cache["memory_bytes"] for shard in result.shards), default=0) / MB
        rows: list[tuple[str, str, float, str, float, bool]] = [
            ("cached queries, p95", "< 10 ms", percentile(cached, 0.95) * 1000, "ms", 10, False),
            ("database queries, p95", "< 50 ms", percentile(database, 0.95) * 1000, "ms", 50, False),
            ("cache hit rate", "> 80%", cache["hit_rate"] * 100, "%", 80, True),
            ("transaction success", "> 99.9%", transactions["success_rate"] * 100, "%", 99.9, True),
            ("memory cache size (largest process)", "< 50 MB", cache_mb, "MB", 50, False),
        ]
        return [
            {
                "metric": name,
                "target": target,
                "measured": value,
                "unit": unit,
                "passed": value > limit if above else value < limit,
            }
            for name, target, value, unit, limit, above in rows
        ]

    def render(self, figures: list[dict[str, Any]]) -> RenderableType:
        """Return this section's table."""
        table = _table(self.title, "metric", "target", "measured", "result")
        for row in figures:
            verdict = "[green]PASS[/]" if row["passed"] else "[red]FAIL[/]"
            table.add_row(row["metric"], row["target"], f"{row['measured']:.3f} {row['unit']}", verdict)
        return table


class InvariantsSection:
    """The checks made from the database at the end."""

    key = "invariants"
    title = "Invariants (checked from the database)"

    def figures(self, result: SimulationResult) -> list[dict[str, Any]]:
        """Return this section's figures."""
        return [asdict(check) for check in result.invariants]

    def render(self, figures: list[dict[str, Any]]) -> RenderableType:
        """Return this section's table."""
        table = _table(self.title, "invariant", "result", "detail")
        table.columns[2].justify = "left"
        for check in figures:
            verdict = "[green]OK[/]" if check["ok"] else "[red]FAILED[/]"
            table.add_row(check["name"], verdict, check["detail"])
        return table
