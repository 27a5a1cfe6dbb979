from __future__ import annotations

import pytest
import sentry_sdk
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from tests.transactions.test_monitoring import CapturingTransport, sentry_transport, spans_sent
from tux.database import Database
from tux.database.core.client import DatabaseClient
from tux.database.optimization.export import BUCKETS, PrometheusExporter, SentrySpans
from tux.database.optimization.fingerprint import shape_of
from tux.database.optimization.query import QueryOptimizer
from tux.database.transactions.patterns import TransactionManager

__all__ = ["sentry_transport"]

SELECT_ONE = "SELECT guild.id FROM guild WHERE guild.id = :id"


async def _run(client: DatabaseClient, sql: str, times: int = 1, **params: object) -> None:
    async with client.engine.connect() as connection:
        for _ in range(times):
            await connection.execute(text(sql), params)


async def test_prometheus_histogram_with_sub_millisecond_buckets_and_few_labels(
    client: DatabaseClient, transactions: TransactionManager
) -> None:
    registry = CollectorRegistry()
    optimizer = QueryOptimizer(client, exporters=[PrometheusExporter(registry, top=1)])
    async with transactions.transaction("lookup"), client.sessions.reading() as session:
        for _ in range(6):
            await session.execute(text(SELECT_ONE), {"id": 1})
    await _run(client, "SELECT count(*) FROM cases")
    with pytest.raises(Exception):  # noqa: B017, PT011 - any driver error
        await _run(client, "SELECT * FROM no_such_table")
    optimizer.detach()

    assert BUCKETS[0] == 0.0001
    first = shape_of(_compiled(client, SELECT_ONE))
    labels = {"operation": "lookup", "table": "guild", "kind": "select", "shape": first.id}
    assert registry.get_sample_value("tux_db_statement_duration_seconds_count", labels) == 6
    assert (
        registry.get_sample_value("tux_db_statement_duration_seconds_bucket", {**labels, "le": "0.0001"})
        is not None
    )
    other = {"operation": "-", "table": "cases", "kind": "select", "shape": "other"}
    assert registry.get_sample_value("tux_db_statement_duration_seconds_count", other) == 1
    errors = {"operation": "-", "table": "no_such_table", "kind": "select"}
    assert registry.get_sample_value("tux_db_statement_errors_total", errors) == 1
    n_plus_one = {"operation": "lookup", "kind": "read"}
    assert registry.get_sample_value("tux_db_n_plus_one_total", n_plus_one) == 1


def _compiled(client: DatabaseClient, sql: str) -> str:
    placeholder = "$1" if client.backend == "postgresql" else "?"
    return sql.replace(":id", placeholder)


async def test_prometheus_setting_can_be_on_in_two_databases(database_url: str) -> None:
    async with (
        Database(database_url, cache_enabled=False, query_metrics_prometheus=True) as first,
        Database(database_url, cache_enabled=False, query_metrics_prometheus=True) as second,
    ):
        await first.guilds.ensure(1)
        await second.guilds.ensure(2)


async def test_sentry_span_per_statement_under_the_running_span(
    client: DatabaseClient, sentry_transport: CapturingTransport
) -> None:
    optimizer = QueryOptimizer(client, exporters=[SentrySpans()])
    await _run(client, SELECT_ONE, id=1)  # no running span: nothing to hang it under
    with sentry_sdk.start_transaction(op="command", name="ban"):
        await _run(client, SELECT_ONE, id=2)
    optimizer.detach()
    spans = [span for span in spans_sent(sentry_transport) if span["op"] == "db.query"]
    assert len(spans) == 1
    assert spans[0]["description"] == shape_of(_compiled(client, SELECT_ONE)).fingerprint
    assert spans[0]["timestamp"] >= spans[0]["start_timestamp"]


async def test_exporters_are_off_by_default(db: Database) -> None:
    assert db.query_optimizer._exporters == ()
