"""Soak of the memory cache: RSS stays within the configured bound plus a small constant, latency flat.

The soak runs in a fresh interpreter (``tests/reliability/soak.py``). CI runs 300,000 operations under
a 2 MiB bound; ``TUX_TEST_LONG=1`` runs the full soak, one million operations under an 8 MiB bound
(about 15 s here), where RSS settles after about 400,000.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys

from tests.reliability.conftest import LONG
from tests.reliability.pgbouncer import ROOT
from tux.database.caching.region import GUILD_KEY_MEMO_SIZE

MIB = 1 << 20
LEAK_TOLERANCE = 4 * MIB
"""Growth allowed between the second and the last quarter of the run: a leak of 8 bytes per operation
over the full soak's last 500,000 operations would pass it, one of 16 would not."""
KEY_MEMO_ENTRY_BYTES = 160
"""A memoized per-guild key, by the object sizes (README, Memory): the memo is bounded, not the level."""
SLACK = 4 * MIB
"""The small constant: the interpreter's own allocations during the run."""
CHURN = 0.25
"""Allocator pages the level's churn leaves partly used (pymalloc frees an arena only when it is empty)
and the dict's spare slots, as a share of the bound: 19% measured under 32 MiB."""


def test_a_long_soak_keeps_rss_within_the_cache_bound_and_latency_flat() -> None:
    operations, bound = (1_000_000, 8 * MIB) if LONG else (300_000, 2 * MIB)
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
    guilds = 4 * bound // 400
    allowance = int(bound * (1 + CHURN)) + min(guilds, GUILD_KEY_MEMO_SIZE) * KEY_MEMO_ENTRY_BYTES + SLACK
    grown = [rss - figures["rss_before"] for rss in figures["batch_rss"]]
    assert grown[-1] <= allowance, f"RSS grew {grown[-1] / MIB:.1f} MiB, allowed {allowance / MIB:.1f}"
    quarter = len(grown) // 4
    settled, last = statistics.median(grown[quarter : 2 * quarter]), statistics.median(grown[-quarter:])
    assert last - settled <= LEAK_TOLERANCE, f"RSS grew {(last - settled) / MIB:.1f} MiB after settling"
    cpu = figures["batch_cpu_seconds_per_operation"]
    early, late = statistics.median(cpu[quarter : 2 * quarter]), statistics.median(cpu[-quarter:])
    assert late <= 1.5 * early, f"latency drifted from {early * 1e6:.1f} to {late * 1e6:.1f} us per operation"
    assert figures["hit_rate"] > 0.5
