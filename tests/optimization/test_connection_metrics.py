"""Prometheus export of the pool figures: the samples are the figures."""

from __future__ import annotations

from prometheus_client import CollectorRegistry

from tux.database import Database
from tux.database.optimization.connection_metrics import PoolCollector


async def test_the_pool_collector_exports_the_figures(db: Database) -> None:
    optimizer = db.pool_optimizer
    assert optimizer is not None
    registry = CollectorRegistry()
    registry.register(PoolCollector(optimizer))
    for guild in range(1, 4):
        await db.guilds.find_by_id(guild)
    figures = optimizer.figures()
    labels = {"backend": db.client.backend}
    assert registry.get_sample_value("tux_db_pool_checkouts_total", labels) == figures.checkouts >= 3
    assert registry.get_sample_value("tux_db_pool_size", labels) == figures.pool_size
    assert registry.get_sample_value("tux_db_pool_hold_seconds_count", labels) == figures.holds
    assert (
        registry.get_sample_value("tux_db_pool_hold_seconds_bucket", {**labels, "le": "+Inf"})
        == figures.holds
    )
    assert registry.get_sample_value("tux_db_pool_hold_seconds_sum", labels) == figures.hold_total
    assert registry.get_sample_value("tux_db_pool_timeouts_total", labels) == 0
