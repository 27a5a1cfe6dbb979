"""Overhead of ``async with monitor.track("x")`` on its own, in nanoseconds per call (median of runs).

Every unit of work goes through :meth:`TransactionMonitor.track`, so its cost is paid on every
transaction. This measures the wrapper alone, against an empty loop and a no-op async context manager
(the price of ``async with`` itself), in the Sentry states a deployment can be in:

- ``no sentry``: ``sentry_sdk`` never imported (the extra not installed, or not used);
- ``sentry imported, not initialised``: e.g. a bot that imports it but has no DSN configured;
- ``sentry active, no transaction``: initialised, but nothing to attach a span to;
- ``sentry active, in transaction``: a ``db.transaction`` span is created per call.

Run: ``.venv/bin/python benchmarks/bench_transaction_monitor.py [--calls N] [--runs R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from tux.database.transactions.monitoring import TransactionMonitor

Loop = Callable[[int], Awaitable[int]]


class _NoOp:
    """The cheapest async context manager: what ``async with`` costs by itself."""

    __slots__ = ()

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


async def _empty(calls: int) -> int:
    start = time.perf_counter_ns()
    for _ in range(calls):
        pass
    return time.perf_counter_ns() - start


async def _noop(calls: int) -> int:
    start = time.perf_counter_ns()
    for _ in range(calls):
        async with _NoOp():
            pass
    return time.perf_counter_ns() - start


def _tracking(monitor: TransactionMonitor) -> Loop:
    async def run(calls: int) -> int:
        track = monitor.track
        start = time.perf_counter_ns()
        for _ in range(calls):
            async with track("x"):
                pass
        return time.perf_counter_ns() - start

    return run


def _medians(loops: dict[str, Loop], calls: int, runs: int) -> dict[str, float]:
    """Median ns per call of each loop; the loops take turns in every run so machine noise hits all."""

    async def measure() -> dict[str, list[float]]:
        samples: dict[str, list[float]] = {label: [] for label in loops}
        for loop in loops.values():
            await loop(min(calls, 10_000))  # warm-up
        for _ in range(runs):
            for label, loop in loops.items():
                samples[label].append(await loop(calls) / calls)
        return samples

    return {label: statistics.median(values) for label, values in asyncio.run(measure()).items()}


def _report(results: dict[str, float], empty: float, noop: float) -> None:
    for label, per_call in results.items():
        print(
            f"{label:<44} {per_call:8.0f} ns/call   vs empty loop {per_call - empty:+7.0f} ns"
            f"   vs no-op async with {per_call - noop:+7.0f} ns"
        )


def _init_sentry() -> Any:
    import sentry_sdk
    from sentry_sdk.envelope import Envelope
    from sentry_sdk.transport import Transport

    class _Discard(Transport):
        def capture_envelope(self, envelope: Envelope) -> None:
            return None

    sentry_sdk.init(
        dsn="https://public@sentry.invalid/1",
        transport=_Discard(),
        traces_sample_rate=1.0,
        default_integrations=False,
        auto_enabling_integrations=False,
    )
    return sentry_sdk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=200_000, help="calls per run")
    parser.add_argument("--runs", type=int, default=15, help="runs; the median is reported")
    args = parser.parse_args()
    calls, runs = args.calls, args.runs

    assert "sentry_sdk" not in sys.modules, "measure the no-sentry case before anything imports it"
    print(f"python {sys.version.split()[0]}, {calls} calls x {runs} runs, median ns per call")
    baseline = _medians(
        {
            "empty loop": _empty,
            "async with <no-op context manager>": _noop,
            "track(): no sentry": _tracking(TransactionMonitor()),
        },
        calls,
        runs,
    )
    empty, noop = baseline["empty loop"], baseline["async with <no-op context manager>"]
    _report(baseline, empty, noop)

    import sentry_sdk

    _report(
        _medians({"track(): sentry imported, not initialised": _tracking(TransactionMonitor())}, calls, runs),
        empty,
        noop,
    )

    sentry = _init_sentry()
    _report(
        _medians({"track(): sentry active, no transaction": _tracking(TransactionMonitor())}, calls, runs),
        empty,
        noop,
    )

    inner = _tracking(TransactionMonitor())

    async def in_transaction(n: int) -> int:
        with sentry.start_transaction(op="bench", name="bench"):
            return await inner(n)

    span_calls = max(calls // 20, 1)
    _report(
        _medians({"track(): sentry active, in transaction": in_transaction}, span_calls, runs), empty, noop
    )
    sentry_sdk.get_client().close()


if __name__ == "__main__":
    main()
