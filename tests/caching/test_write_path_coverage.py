"""Every write the cache tables declare has a write-path test (:mod:`tests.caching.write_path_list`).

A write path named ``attribute.method`` covers the declared write of the interface behind
``db.attribute``; a path that runs declared writes its name does not say lists them in ``covers``.
Writes that change nothing cached (declared with no events) need no path.
"""

from __future__ import annotations

from pathlib import Path

from tests.caching.write_path_list import WRITE_PATHS
from tux.database import Database
from tux.database.repositories.cached_tables import CACHE_TABLES


def _declared_writes() -> set[str]:
    return {
        f"{interface.__name__}.{method}"
        for interface, table in CACHE_TABLES.items()
        for method, write in table.writes.items()
        if write.events
    }


def _covered_writes(db: Database) -> set[str]:
    interfaces = {
        attribute: interface.__name__
        for attribute, value in vars(db).items()
        for interface in CACHE_TABLES
        if isinstance(value, interface)
    }
    covered: set[str] = set()
    for path in WRITE_PATHS:
        attribute, _, method = path.name.split(" ", 1)[0].partition(".")
        if attribute in interfaces:
            covered.add(f"{interfaces[attribute]}.{method}")
        covered.update(path.covers)
    return covered


def test_every_declared_write_has_a_write_path_test(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'paths.sqlite3'}")
    missing = _declared_writes() - _covered_writes(db)
    assert not missing, (
        f"declared writes without a write path in tests/caching/write_path_list.py: {sorted(missing)}"
    )


def test_every_covered_write_is_declared(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'paths.sqlite3'}")
    covered = _covered_writes(db)
    assert covered <= _declared_writes(), (
        f"write paths naming no declared write: {sorted(covered - _declared_writes())}"
    )
