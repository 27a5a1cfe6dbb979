"""Overhead of ``async with monitor.track("x")`` on its own, in nanoseconds per call (median of runs).

Every unit of work goes through :meth:`TransactionMonitor.track`, so its cost is paid on every
transaction. This measures the wrapper alone, against an empty loop and a no-op async context manager
(the price of ``async with`` itself), in the Sentry states a deployment can be in:

- ``no sentry``: ``sentry_sdk`` never imported (the extra not installed, or not used);
- ``sentry imported, not initialised``: e.g. a bot that imports it but has no DSN configured;
- ``sentry active, no transaction``: initialised, but no span to attach to;
- ``sentry active, in transaction``: a ``db.transaction`` span is created per call (Sentry's own cost).

All variants take turns within every run (the Sentry state is switched before each), so load on the
machine hits them alike; the median over runs is reported, the minimum in brackets.

Run: ``.venv/bin/python benchmarks/bench_transaction_monitor.py [--calls N] [--runs R]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from types import ModuleType, TracebackType

import sentry_sdk
from sentry_sdk.client import BaseClient
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from tux.database.transactions.monitoring import TransactionMonitor

Loop = Callable[[int], Awaitable[int]]
State = Callable[[], AbstractContextManager[None]]


class _NoOp:
    """The cheapest async context manager: what ``async with`` costs by itself."""

    __slots__ = ()

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        return None


class _Discard(Transport):
    def capture_envelope(self, envelope: Envelope) -> None:
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


def _in_transaction(loop: Loop) -> Loop:
    async def run(calls: int) -> int:
        with sentry_sdk.start_transaction(op="bench", name="bench"):
            return await loop(calls)

    return run


def _states(client: BaseClient) -> dict[str, State]:
    """Context managers putting the process in each Sentry state for one measurement."""
    sdk: ModuleType = sys.modules["sentry_sdk"]

    @contextmanager
    def absent() -> Iterator[None]:
        del sys.modules["sentry_sdk"]  # what the monitor sees when nothing imported it
        try:
            yield
        finally:
            sys.modules["sentry_sdk"] = sdk

    @contextmanager
    def inactive() -> Iterator[None]:
        sentry_sdk.get_global_scope().set_client(None)
        try:
            yield
        finally:
            sentry_sdk.get_global_scope().set_client(client)

    @contextmanager
    def active() -> Iterator[None]:
        yield

    return {"absent": absent, "inactive": inactive, "active": active}


def _measure(variants: dict[str, tuple[Loop, State, int]], runs: int) -> dict[str, tuple[float, float]]:
    """Median and minimum ns per call of each variant, every variant running once per run."""

    async def measure() -> dict[str, list[float]]:
        samples: dict[str, list[float]] = {label: [] for label in variants}
        for _ in range(runs + 1):  # the first round warms up and is dropped
            for label, (loop, state, calls) in variants.items():
                with state():
                    samples[label].append(await loop(calls) / calls)
        return {label: values[1:] for label, values in samples.items()}

    return {
        label: (statistics.median(values), min(values)) for label, values in asyncio.run(measure()).items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=100_000, help="calls per run")
    parser.add_argument("--runs", type=int, default=15, help="runs; the median is reported")
    args = parser.parse_args()
    calls, runs = args.calls, args.runs

    sentry_sdk.init(
        dsn="https://public@sentry.invalid/1",
        transport=_Discard(),
        traces_sample_rate=1.0,
        default_integrations=False,
        auto_enabling_integrations=False,
    )
    states = _states(sentry_sdk.get_client())
    span_calls = max(calls // 20, 1)  # span creation is slow; fewer calls keep the run short
    variants: dict[str, tuple[Loop, State, int]] = {
        "empty loop": (_empty, states["absent"], calls),
        "async with <no-op context manager>": (_noop, states["absent"], calls),
        "track(): no sentry": (_tracking(TransactionMonitor()), states["absent"], calls),
        "track(): sentry imported, not initialised": (
            _tracking(TransactionMonitor()),
            states["inactive"],
            calls,
        ),
        "track(): sentry active, no transaction": (_tracking(TransactionMonitor()), states["active"], calls),
        "track(): sentry active, in transaction": (
            _in_transaction(_tracking(TransactionMonitor())),
            states["active"],
            span_calls,
        ),
    }
    results = _measure(variants, runs)

    empty = results["empty loop"][0]
    noop = results["async with <no-op context manager>"][0]
    print(f"python {sys.version.split()[0]}, {calls} calls x {runs} runs; ns per call, median [min]")
    for label, (median, minimum) in results.items():
        print(
            f"{label:<44} {median:7.0f} [{minimum:6.0f}]   vs empty loop {median - empty:+7.0f}"
            f"   vs no-op async with {median - noop:+7.0f}"
        )
    sentry_sdk.get_client().close()


if __name__ == "__main__":
    main()
