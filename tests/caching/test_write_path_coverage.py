"""Every write the repositories declare has a write-path test (:mod:`tests.caching.write_path_list`).

The declared writes are read from the cached repositories ``Database`` hands out (their tables are
collected from the declarations beside the repository methods). A write path named ``attribute.method``
covers the declared write of the interface behind ``db.attribute``; a path that runs declared writes its
name does not say lists them in ``covers``. Writes that change nothing cached (declared with no events)
need no path.
"""

from __future__ import annotations

from pathlib import Path

from tests.caching.write_path_list import WRITE_PATHS
from tux.database import Database
from tux.database.repositories.cached import CachedRepository


def _cached(db: Database) -> dict[str, CachedRepository]:
    """Every cached repository of ``db``, by its interface's name."""
    return {
        interface.__name__: repository
        for interface in db.registry.interfaces()
        if isinstance(repository := db.registry.get_repository(interface), CachedRepository)
    }


def _declared_writes(db: Database) -> set[str]:
    return {
        f"{name}.{method}"
        for name, repository in _cached(db).items()
        for method, write in repository.cache_table.writes.items()
        if write.events
    }


def _covered_writes(db: Database) -> set[str]:
    cached = _cached(db)
    interfaces = {
        attribute: name
        for attribute, value in vars(db).items()
        for name, repository in cached.items()
        if value is repository
    }
    covered: set[str] = set()
    for path in WRITE_PATHS:
        attribute, _, method = path.name.split(" ", 1)[0].partition(".")
        if attribute in interfaces:
            covered.add(f"{interfaces[attribute]}.{method}")
        covered.update(path.covers)
    return covered


def test_the_declared_writes_are_read_from_every_cached_repository(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'paths.sqlite3'}")
    assert {"IAfkRepository.set_afk", "IGuildRepository.delete"} <= _declared_writes(db)
    assert "ICaseRepository.get_next_case_number" not in _declared_writes(db), "changes nothing cached"


def test_every_declared_write_has_a_write_path_test(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'paths.sqlite3'}")
    missing = _declared_writes(db) - _covered_writes(db)
    assert not missing, (
        f"declared writes without a write path in tests/caching/write_path_list.py: {sorted(missing)}"
    )


def test_every_covered_write_is_declared(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'paths.sqlite3'}")
    covered = _covered_writes(db)
    assert covered <= _declared_writes(db), (
        f"write paths naming no declared write: {sorted(covered - _declared_writes(db))}"
    )
