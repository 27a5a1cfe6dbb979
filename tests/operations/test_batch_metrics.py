"""Batch totals per operation and table, and their Prometheus export."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from tux.database import Database
from tux.database.exceptions import ConflictError
from tux.database.operations.metrics import BatchCollector

GUILD = 111_111_111_111_111_111


async def test_batch_calls_rows_and_failures_are_exported(db: Database) -> None:
    registry = CollectorRegistry()
    registry.register(BatchCollector(db.batch.stats))
    rows = [{"guild_id": GUILD, "member_id": member} for member in range(1, 11)]
    await db.batch.batch_create(db.levels, rows, returning=False)
    with pytest.raises(ConflictError):
        await db.batch.batch_create(db.levels, rows[:2], returning=False)
    labels = {"operation": "batch_create", "table": "levels"}
    assert registry.get_sample_value("tux_db_batch_calls_total", labels) == 2
    assert registry.get_sample_value("tux_db_batch_failed_total", labels) == 1
    assert registry.get_sample_value("tux_db_batch_rows_total", labels) == 10
    assert registry.get_sample_value("tux_db_batch_seconds_count", labels) == 2
    assert registry.get_sample_value("tux_db_batch_seconds_bucket", {**labels, "le": "+Inf"}) == 2
