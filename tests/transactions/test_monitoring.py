"""TransactionMonitor: counts, percentiles, long-running warnings, bounded memory and the Sentry span.

Durations come from an injected clock that the test advances, so nothing sleeps and every expected
value is exact.
"""

from __future__ import annotations

import random
import statistics
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest
import sentry_sdk
from loguru import logger
from sentry_sdk.envelope import Envelope
from sentry_sdk.tracing import Span, Transaction
from sentry_sdk.transport import Transport

from tux.database.transactions.monitoring import SPAN_OP, OperationStats, TransactionMonitor

if TYPE_CHECKING:
    from loguru import Message


class FakeClock:
    """A clock that only moves when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class InjectedError(Exception):
    """The failure a test injects into a tracked block."""


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def monitor(clock: FakeClock) -> TransactionMonitor:
    return TransactionMonitor(long_running_threshold=1.0, clock=clock)


async def run(
    monitor: TransactionMonitor, clock: FakeClock, name: str, seconds: float, *, fail: bool = False
) -> None:
    """Track one ``name`` transaction lasting ``seconds``; raise :class:`InjectedError` inside if ``fail``."""
    async with monitor.track(name):
        clock.advance(seconds)
        if fail:
            raise InjectedError(name)


async def test_counts_successes_failures_and_retries(monitor: TransactionMonitor, clock: FakeClock) -> None:
    for _ in range(3):
        await run(monitor, clock, "ban_user", 0.1)
    for _ in range(2):
        with pytest.raises(InjectedError):
            await run(monitor, clock, "ban_user", 0.2, fail=True)
    monitor.record_retry("ban_user")
    monitor.record_retry("ban_user")
    await run(monitor, clock, "create_snippet", 0.4)

    ban = monitor.stats("ban_user")
    assert (ban.total, ban.failed, ban.retried, ban.long_running) == (5, 2, 2, 0)
    assert ban.average == pytest.approx((3 * 0.1 + 2 * 0.2) / 5)
    assert ban.max == pytest.approx(0.2)
    snippet = monitor.stats("create_snippet")
    assert (snippet.total, snippet.failed, snippet.retried) == (1, 0, 0)

    assert set(monitor.snapshot()) == {"ban_user", "create_snippet"}
    assert monitor.snapshot()["ban_user"] == ban
    overall = monitor.stats()
    assert (overall.total, overall.failed, overall.retried) == (6, 2, 2)
    assert overall.average == pytest.approx((3 * 0.1 + 2 * 0.2 + 0.4) / 6)
    assert overall.max == pytest.approx(0.4)


async def test_metrics_keep_the_seed_keys(monitor: TransactionMonitor, clock: FakeClock) -> None:
    assert monitor.metrics == {
        "total_transactions": 0,
        "failed_transactions": 0,
        "retried_transactions": 0,
        "average_duration": 0.0,
        "long_running_transactions": 0,
    }
    await run(monitor, clock, "a", 0.5)
    await run(monitor, clock, "b", 2.5)
    with pytest.raises(InjectedError):
        await run(monitor, clock, "b", 0.0, fail=True)
    monitor.record_retry("b")

    metrics = monitor.metrics
    assert metrics["total_transactions"] == 3
    assert metrics["failed_transactions"] == 1
    assert metrics["retried_transactions"] == 1
    assert metrics["long_running_transactions"] == 1
    assert metrics["average_duration"] == pytest.approx(1.0)


async def test_exception_propagates_unchanged(monitor: TransactionMonitor) -> None:
    error = InjectedError("kept")
    with pytest.raises(InjectedError) as caught:
        async with monitor.track("x"):
            raise error
    assert caught.value is error
    assert monitor.stats("x").failed == 1


async def test_unknown_operation_is_all_zeros(monitor: TransactionMonitor) -> None:
    assert monitor.stats("never") == OperationStats()
    assert monitor.stats() == OperationStats()
    assert monitor.snapshot() == {}


async def test_percentiles_of_a_known_distribution(monitor: TransactionMonitor, clock: FakeClock) -> None:
    durations = [ms / 1000 for ms in range(1, 101)]  # 1 ms .. 100 ms
    random.Random(7).shuffle(durations)
    for seconds in durations:
        await run(monitor, clock, "get_snippet", seconds)

    stats = monitor.stats("get_snippet")
    assert stats.samples == 100
    # Linear interpolation between closest ranks (numpy's default, statistics' "inclusive" method).
    assert stats.p50 == pytest.approx(0.0505)
    assert stats.p95 == pytest.approx(0.09505)
    assert stats.p99 == pytest.approx(0.09901)
    cuts = statistics.quantiles(durations, n=100, method="inclusive")
    assert (stats.p50, stats.p95, stats.p99) == pytest.approx((cuts[49], cuts[94], cuts[98]))
    assert stats.average == pytest.approx(0.0505)
    assert stats.max == pytest.approx(0.1)


async def test_percentiles_of_a_single_sample(monitor: TransactionMonitor, clock: FakeClock) -> None:
    await run(monitor, clock, "one", 0.25)
    stats = monitor.stats("one")
    assert stats.p50 == stats.p95 == stats.p99 == stats.max == stats.average == pytest.approx(0.25)


async def test_overlapping_transactions_are_timed_separately(
    monitor: TransactionMonitor, clock: FakeClock
) -> None:
    first, second = monitor.track("x"), monitor.track("x")
    await first.__aenter__()
    clock.advance(1.0)
    await second.__aenter__()
    clock.advance(0.5)
    await first.__aexit__(None, None, None)  # 1.5 s
    clock.advance(2.0)
    await second.__aexit__(None, None, None)  # 2.5 s

    stats = monitor.stats("x")
    assert stats.total == 2
    assert stats.average == pytest.approx(2.0)
    assert stats.max == pytest.approx(2.5)


@pytest.fixture
def warnings_logged() -> Iterator[list[str]]:
    messages: list[str] = []

    def sink(message: Message) -> None:
        messages.append(message.record["message"])

    handler = logger.add(sink, level="WARNING", format="{message}")
    yield messages
    logger.remove(handler)


async def test_long_running_counted_and_warned(
    monitor: TransactionMonitor, clock: FakeClock, warnings_logged: list[str]
) -> None:
    await run(monitor, clock, "guild_setup", 0.5)
    await run(monitor, clock, "guild_setup", 1.0)  # at the threshold: not longer than it
    assert warnings_logged == []

    await run(monitor, clock, "guild_setup", 1.5)
    with pytest.raises(InjectedError):
        await run(monitor, clock, "guild_setup", 3.0, fail=True)

    assert monitor.stats("guild_setup").long_running == 2
    assert monitor.metrics["long_running_transactions"] == 2
    assert len(warnings_logged) == 2
    assert "guild_setup" in warnings_logged[0]
    assert "1.500s" in warnings_logged[0]
    assert "3.000s" in warnings_logged[1]


async def test_threshold_is_configurable(clock: FakeClock, warnings_logged: list[str]) -> None:
    default = TransactionMonitor(clock=clock)
    assert default.long_running_threshold == 5.0
    await run(default, clock, "x", 4.9)
    await run(default, clock, "x", 5.1)
    assert default.stats("x").long_running == 1
    assert len(warnings_logged) == 1


async def test_memory_is_bounded_by_the_window(clock: FakeClock) -> None:
    monitor = TransactionMonitor(clock=clock, window=10)
    for ms in range(1000):
        await run(monitor, clock, "x", ms / 1000)

    stats = monitor.stats("x")
    assert stats.total == 1000
    assert stats.samples == 10  # only the 10 most recent durations are kept
    assert stats.p50 == pytest.approx(0.9945)  # median of 0.990 .. 0.999
    assert stats.average == pytest.approx(0.4995)  # over every transaction, not only the window
    assert stats.max == pytest.approx(0.999)


async def test_reset_forgets_everything_and_counts_in_flight_afresh(
    monitor: TransactionMonitor, clock: FakeClock
) -> None:
    await run(monitor, clock, "x", 0.1)
    monitor.record_retry("x")
    in_flight = monitor.track("y")
    await in_flight.__aenter__()

    monitor.reset()
    assert monitor.snapshot() == {}
    assert monitor.metrics["total_transactions"] == 0

    clock.advance(0.3)
    await in_flight.__aexit__(None, None, None)
    assert set(monitor.snapshot()) == {"y"}
    assert monitor.stats("y").average == pytest.approx(0.3)


def test_rejects_bad_configuration() -> None:
    with pytest.raises(ValueError, match="threshold"):
        TransactionMonitor(long_running_threshold=-1)
    with pytest.raises(ValueError, match="window"):
        TransactionMonitor(window=0)


class CapturingTransport(Transport):
    """Keeps every envelope the SDK would send."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)


@pytest.fixture
def sentry_transport() -> Iterator[CapturingTransport]:
    """An initialised Sentry client that traces everything into a list, removed afterwards."""
    transport = CapturingTransport()
    sentry_sdk.init(
        dsn="https://public@sentry.invalid/1",
        transport=transport,
        traces_sample_rate=1.0,
        default_integrations=False,
        auto_enabling_integrations=False,
    )
    yield transport
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)


def spans_sent(transport: CapturingTransport) -> list[dict[str, Any]]:
    spans: list[dict[str, Any]] = []
    for envelope in transport.envelopes:
        event = envelope.get_transaction_event()
        sent = event.get("spans") if event is not None else None
        if isinstance(sent, list):
            spans.extend(sent)
    return spans


@pytest.fixture
def start_child_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record every ``Span.start_child`` call, to prove the monitor asked Sentry for nothing."""
    calls: list[dict[str, Any]] = []
    original = Span.start_child

    def recording(self: Span, instrumenter: str = "sentry", **kwargs: Any) -> Span:
        calls.append(kwargs)
        return original(self, instrumenter, **kwargs)

    monkeypatch.setattr(Span, "start_child", recording)
    return calls


async def test_sentry_span_inside_a_transaction(
    monitor: TransactionMonitor, sentry_transport: CapturingTransport
) -> None:
    with sentry_sdk.start_transaction(op="command", name="ban"):
        async with monitor.track("ban_user"):
            current = sentry_sdk.get_current_span()
            assert current is not None
            assert current.op == SPAN_OP  # queries inside nest under the db.transaction span
        with pytest.raises(InjectedError):
            async with monitor.track("ban_user"):
                raise InjectedError
        assert sentry_sdk.get_current_span() is not None
        assert sentry_sdk.get_current_span().op == "command"  # type: ignore[union-attr]

    spans = [span for span in spans_sent(sentry_transport) if span["op"] == SPAN_OP]
    assert [span["description"] for span in spans] == ["ban_user", "ban_user"]
    assert spans[0].get("status") != "internal_error"
    assert spans[1]["status"] == "internal_error"
    assert monitor.stats("ban_user").failed == 1


async def test_no_sentry_span_without_a_transaction(
    monitor: TransactionMonitor, sentry_transport: CapturingTransport, start_child_calls: list[dict[str, Any]]
) -> None:
    async with monitor.track("ban_user"):
        assert sentry_sdk.get_current_span() is None
    assert start_child_calls == []
    assert spans_sent(sentry_transport) == []
    assert monitor.stats("ban_user").total == 1


async def test_no_sentry_span_when_sentry_is_not_initialised(
    monitor: TransactionMonitor, start_child_calls: list[dict[str, Any]]
) -> None:
    assert not sentry_sdk.get_client().is_active()
    # A sampled transaction entered by hand: only the inactive client says there is nowhere to send to.
    with Transaction(op="command", name="ban", sampled=True) as transaction:
        assert sentry_sdk.get_current_span() is transaction
        async with monitor.track("ban_user"):
            assert sentry_sdk.get_current_span() is transaction
    assert start_child_calls == []
    assert monitor.stats("ban_user").total == 1


async def test_works_without_sentry_installed(
    monitor: TransactionMonitor, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sentry_sdk", None)  # what an uninstalled extra looks like to imports
    await run(monitor, clock, "x", 0.1)
    with pytest.raises(InjectedError):
        await run(monitor, clock, "x", 0.1, fail=True)
    assert (monitor.stats("x").total, monitor.stats("x").failed) == (2, 1)


async def test_no_sentry_span_in_an_unsampled_transaction(
    monitor: TransactionMonitor, sentry_transport: CapturingTransport, start_child_calls: list[dict[str, Any]]
) -> None:
    with sentry_sdk.start_transaction(op="command", name="ban", sampled=False) as transaction:
        assert transaction.sampled is False
        async with monitor.track("ban_user"):
            assert sentry_sdk.get_current_span() is transaction
    assert start_child_calls == []
    assert spans_sent(sentry_transport) == []
