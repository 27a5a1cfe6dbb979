"""The cache seam is checked when ``Database(...)`` is built: each wrong declaration names its culprit."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

import pytest

from tux.database import Database
from tux.database.caching import names
from tux.database.exceptions import ConfigurationError
from tux.database.repositories.cached_specs import CacheTable, Change, Lookup, Write
from tux.database.repositories.cached_tables import CACHE_TABLES
from tux.database.repositories.interfaces import IAfkRepository


def _database(tmp_path: Path, **overrides: Any) -> Database:
    return Database(f"sqlite+aiosqlite:///{tmp_path / 'seam.sqlite3'}", **overrides)


def _replace_afk_table(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    tables = cast(dict[type[Any], CacheTable], CACHE_TABLES)
    monkeypatch.setitem(tables, IAfkRepository, dataclasses.replace(tables[IAfkRepository], **changes))


def test_the_shipped_tables_pass_the_checks(tmp_path: Path) -> None:
    assert _database(tmp_path).afk is not None


def test_a_kind_without_a_policy_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _replace_afk_table(monkeypatch, kind="afk_typo")
    with pytest.raises(ConfigurationError, match=r"IAfkRepository: cache kind 'afk_typo' has no policy"):
        _database(tmp_path)


def test_an_event_without_a_rule_is_refused(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigurationError, match=r"IAfkRepository\.\w+: event 'afk_update' has no invalidation"
    ):
        _database(tmp_path, cache_policies={names.AFK: {"invalidated_by": {}}})


def test_a_write_whose_event_drops_none_of_its_kinds_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = Write((names.STARBOARD_UPDATE,), lambda result, data: [Change(names.STARBOARD_UPDATE)])
    _replace_afk_table(monkeypatch, writes={**CACHE_TABLES[IAfkRepository].writes, "set_afk": wrong})
    with pytest.raises(
        ConfigurationError,
        match=r"IAfkRepository\.set_afk: event 'starboard_update' invalidates none of \['afk'\]",
    ):
        _database(tmp_path)


def test_a_kind_no_declared_write_invalidates_is_refused(tmp_path: Path) -> None:
    stats_rules = {names.CASE_STATS: {"invalidated_by": {names.XP_UPDATE: None}}}
    with pytest.raises(
        ConfigurationError, match=r"ICaseRepository: no declared write invalidates .*'case_stats'"
    ):
        _database(tmp_path, cache_policies=stats_rules)


def test_a_cached_method_missing_from_its_repository_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookups = {
        **CACHE_TABLES[IAfkRepository].lookups,
        "find_by_nickname": Lookup(key=lambda region, name: None),
    }
    _replace_afk_table(monkeypatch, lookups=lookups)
    with pytest.raises(
        ConfigurationError, match=r"AfkRepository.*not in the repository \['find_by_nickname'\]"
    ):
        _database(tmp_path)
