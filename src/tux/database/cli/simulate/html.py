"""``--html``: one self-contained page with the report's charts and tables.

The charts are drawn with matplotlib and embedded as inline SVG, so the page needs no network and no
script to show them.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from tux.database.cli.simulate.figures import merged_operations, merged_timeline
from tux.database.cli.simulate.runner import SimulationResult

CHARTED_OPERATIONS = 14
"""Operations in the latency chart: the most frequent ones."""

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #1d1d1f; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #d0d0d5; padding: 0.25rem 0.6rem; text-align: right; }
td { overflow-wrap: anywhere; } h3 { font-size: 1rem; }
th:first-child, td:first-child { text-align: left; }
th { background: #f2f2f5; }
.pass { color: #137333; font-weight: 600; } .fail { color: #c5221f; font-weight: 600; }
figure { margin: 1rem 0; } svg { max-width: 100%; height: auto; }
"""


def write_page(path: Path, report: Mapping[str, Any], result: SimulationResult) -> None:
    """Write the page of ``report`` (with charts from ``result``'s samples) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(report, result), encoding="utf-8")


def render_page(report: Mapping[str, Any], result: SimulationResult) -> str:
    """Return the page as a string."""
    run = report["run"]
    title = f"tux-db simulate: {run['backend']}{' + Redis' if run['redis_url'] else ''}"
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>",
        f"<p>{run['messages']} chat messages, {run['processes']} process(es) x {run['workers_per_process']} "
        f"workers, seed {run['seed']}, {run['elapsed_s']:.1f} s.</p>",
        "<h2>Success metrics</h2>",
        _table(
            ("metric", "target", "measured", "result"),
            (
                (
                    row["metric"],
                    row["target"],
                    f"{row['measured']:.3f} {row['unit']}",
                    _verdict(row["passed"], "PASS", "FAIL"),
                )
                for row in report["success_metrics"]
            ),
        ),
        "<h2>Invariants</h2>",
        _table(
            ("invariant", "result", "detail"),
            (
                (check["name"], _verdict(check["ok"], "OK", "FAILED"), check["detail"])
                for check in report["invariants"]
            ),
        ),
        "<h2>Latency per operation</h2>",
        _figure(_latency_chart(result), "Latency distribution per operation, cached and database-served"),
        "<h2>Cache hit rate over time</h2>",
        _figure(_hit_rate_chart(result), "Cache hit rate and throughput over the run"),
        "<h2>Operations (ms)</h2>",
        _table(
            ("operation", "cached", "cached p50 / p95 / p99", "database", "database p50 / p95 / p99"),
            (
                (
                    name,
                    op["cached"]["count"],
                    _percentiles(op["cached"]),
                    op["database"]["count"],
                    _percentiles(op["database"]),
                )
                for name, op in report["operations"].items()
            ),
        ),
        "<h2>Cache per type</h2>",
        _table(
            ("type", "lookups", "hit rate", "memory hits", "redis hits", "database hits"),
            (
                (
                    kind,
                    stats["served"] + stats["missed"],
                    f"{stats['hit_rate']:.1%}",
                    *(stats["hits"].get(level, 0) for level in ("memory", "redis", "database")),
                )
                for kind, stats in report["cache"]["per_type"].items()
            ),
        ),
        *_optimizer_parts(report["optimizer"]),
        "</body></html>",
    ]
    return "\n".join(parts)


def _optimizer_parts(found: Mapping[str, Any]) -> list[str]:
    """The optimizer's findings: slow queries, rule advice, N+1 runs, pool and index advice."""
    threshold = found["slow_query_threshold_ms"]
    return [
        "<h2>Optimizer findings</h2>",
        f"<p>{found['statements']} statements watched by the query monitor; slow: >= {threshold:g} ms.</p>",
        "<h3>Slow queries</h3>",
        _table(
            ("statement shape", "calls", "slow", "mean ms", "max ms"),
            (
                (q["query"], q["calls"], q["slow_calls"], f"{q['mean_ms']:.2f}", f"{q['max_ms']:.1f}")
                for q in found["slow_queries"]
            ),
        ),
        "<h3>Query advice (plan and PgHero rules) and N+1 runs</h3>",
        _table(
            ("issue", "operation", "statement shape", "advice"),
            [
                *((r["issue"], "", r["query"], r["recommendation"]) for r in found["recommendations"]),
                *(
                    (
                        f"N+1 {n['kind']}: {n['runs']} run(s), longest {n['longest']}",
                        n["operation"] or "-",
                        n["query"],
                        n["advice"],
                    )
                    for n in found["n_plus_one"]
                ),
            ],
        ),
        "<h3>Connection pool</h3>",
        _table(
            ("process", "size + overflow", "peak", "checkouts", "waits", "timeouts", "hold p95 ms", "advice"),
            (
                (
                    p["shard"],
                    f"{p['pool_size']} + {p['max_overflow']}",
                    p["peak_usage"],
                    p["checkouts"],
                    p["waits"],
                    p["timeouts"],
                    f"{p['hold_p95'] * 1000:.1f}",
                    "; ".join(p["advice"]) or "no change needed",
                )
                for p in found["pool"]
            ),
        ),
        "<h3>Index advice (checked by the planner)</h3>",
        _table(
            ("statement", "method", "cost saved", "calls"),
            (
                (
                    i["statement"],
                    i["method"] if i["validated"] else "UNVALIDATED heuristic",
                    f"{i['saving']:.0%}",
                    i["calls"],
                )
                for i in found["index_advice"]
            ),
        ),
    ]


def _verdict(ok: bool, good: str, bad: str) -> str:
    return f"<span class='{'pass' if ok else 'fail'}'>{good if ok else bad}</span>"


def _percentiles(summary: Mapping[str, float]) -> str:
    if not summary["count"]:
        return "-"
    return " / ".join(f"{summary[key]:.2f}" for key in ("p50_ms", "p95_ms", "p99_ms"))


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(value)}</td>" for value in row) + "</tr>" for row in rows)
    body = body or f"<tr><td colspan='{len(header)}'>none</td></tr>"
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value: object) -> str:
    text = str(value)
    return text if text.startswith("<span class=") else html.escape(text)


def _figure(figure: Figure, caption: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    return f"<figure>{svg}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _latency_chart(result: SimulationResult) -> Figure:
    operations = merged_operations(result)
    busiest = sorted(
        operations.items(), key=lambda item: len(item[1].cached) + len(item[1].database), reverse=True
    )[:CHARTED_OPERATIONS]
    labels, samples, colors = [], [], []
    for name, op in reversed(busiest):
        for where, values, color in (("cached", op.cached, "#34a853"), ("database", op.database, "#4285f4")):
            if values:
                labels.append(f"{name} ({where})")
                samples.append([value * 1000 for value in values])
                colors.append(color)
    figure = Figure(figsize=(10, max(3.0, 0.32 * len(labels) + 1)))
    axes = figure.add_subplot()
    if samples:
        boxes = axes.boxplot(
            samples, orientation="horizontal", whis=(1, 99), showfliers=False, patch_artist=True
        )
        for patch, color in zip(boxes["boxes"], colors, strict=True):
            patch.set_facecolor(color)
        axes.set_yticks(range(1, len(labels) + 1), labels)
        axes.set_xscale("log")
    axes.set_xlabel("milliseconds (box: p25-p75, whiskers: p1-p99; log scale)")
    axes.grid(axis="x", alpha=0.3)
    return figure


def _hit_rate_chart(result: SimulationResult) -> Figure:
    timeline = merged_timeline(result)
    times, cumulative, interval, throughput = [], [], [], []
    previous = None
    for point in timeline:
        lookups = point.served + point.missed
        times.append(point.at)
        cumulative.append(100 * point.served / lookups if lookups else 0.0)
        if previous is None:
            interval.append(cumulative[-1])
            throughput.append(0.0)
        else:
            served, missed = point.served - previous.served, point.missed - previous.missed
            interval.append(100 * served / (served + missed) if served + missed else interval[-1])
            span = point.at - previous.at
            throughput.append((point.completed - previous.completed) / span if span > 0 else 0.0)
        previous = point
    figure = Figure(figsize=(10, 3.6))
    axes = figure.add_subplot()
    axes.plot(times, interval, color="#fbbc04", label="hit rate per interval")
    axes.plot(times, cumulative, color="#34a853", linewidth=2, label="hit rate since start")
    axes.axhline(80, color="#c5221f", linestyle="--", linewidth=1, label="target 80%")
    axes.set_ylim(0, 100)
    axes.set_xlabel("seconds into the run")
    axes.set_ylabel("cache hit rate (%)")
    rate = axes.twinx()
    rate.plot(times, throughput, color="#4285f4", alpha=0.5, label="messages/s")
    rate.set_ylabel("messages per second")
    axes.legend(loc="lower right")
    axes.grid(alpha=0.3)
    return figure
