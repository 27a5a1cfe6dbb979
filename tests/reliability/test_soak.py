"""Soak of the memory cache: RSS stays within the configured bound plus a small constant, latency flat.

The soak runs in a fresh interpreter (``tests/reliability/soak.py``). CI runs 300,000 operations under
a 2 MiB bound; ``TUX_TEST_LONG=1`` runs the full soak, one million operations under 8 MiB and under the
default 32 MiB (about a minute together here). The bound covers the key memos and the allocator's
headroom as well as the level's entries (:mod:`tux.database.caching.budget`), so RSS may grow by the
bound itself and no more than :data:`CONSTANT` beyond it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

import pytest

from tests.reliability.conftest import LONG
from tests.reliability.pgbouncer import ROOT
from tux.database.caching.config import CacheConfig

MIB = 1 << 20
CONSTANT = 2 * MIB
"""The small constant: what the interpreter allocates during the run besides the cache (0.2 MiB measured
under a 256 KiB bound), and the allocator's variation between runs."""
LEAK_TOLERANCE = 2 * MIB
"""Growth allowed between the third and the last quarter of the run (the allocator settles for about
half of the full soak under 32 MiB): a leak of 9 bytes per operation over the full soak's last 250,000
operations would not pass it."""
BOUNDS = (8 * MIB, CacheConfig().memory_max_bytes) if LONG else (2 * MIB,)


@pytest.mark.parametrize("bound", BOUNDS, ids=lambda bound: f"{bound // MIB}MiB")
def test_a_long_soak_keeps_rss_within_the_cache_bound_and_latency_flat(bound: int) -> None:
    operations = 1_000_000 if LONG else 300_000
    run = subprocess.run(
        [sys.executable, "-m", "tests.reliability.soak", str(operations), str(bound)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(run.stdout)
    assert figures["operations"] == operations
    assert figures["memory_bytes"] <= bound
    grown = [rss - figures["rss_before"] for rss in figures["batch_rss"]]
    peak = max(grown)
    assert peak <= bound + CONSTANT, f"RSS grew {peak / MIB:.1f} MiB under a {bound // MIB} MiB bound"
    quarter = len(grown) // 4
    settled, last = statistics.median(grown[2 * quarter : 3 * quarter]), statistics.median(grown[-quarter:])
    assert last - settled <= LEAK_TOLERANCE, f"RSS grew {(last - settled) / MIB:.1f} MiB after settling"
    cpu = figures["batch_cpu_seconds_per_operation"]
    early, late = statistics.median(cpu[quarter : 2 * quarter]), statistics.median(cpu[-quarter:])
    assert late <= 1.5 * early, f"latency drifted from {early * 1e6:.1f} to {late * 1e6:.1f} us per operation"
    assert figures["hit_rate"] > 0.5
