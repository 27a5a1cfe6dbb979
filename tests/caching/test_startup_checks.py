"""The cache seam is checked when ``Database(...)`` is built: each wrong declaration names its culprit."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tux.database import Database
from tux.database.caching import names
from tux.database.exceptions import ConfigurationError
from tux.database.models import AFK
from tux.database.repositories.afk import AfkRepository
from tux.database.repositories.cached_specs import Change, Lookup, Write, invalidates


def _database(tmp_path: Path, **overrides: Any) -> Database:
    return Database(f"sqlite+aiosqlite:///{tmp_path / 'seam.sqlite3'}", **overrides)


def _replace_afk_seam(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:
    seam = AfkRepository.cache_seam
    assert seam is not None
    monkeypatch.setattr(AfkRepository, "cache_seam", dataclasses.replace(seam, **changes))


def test_the_shipped_declarations_pass_the_checks(tmp_path: Path) -> None:
    assert _database(tmp_path).afk is not None


def test_a_kind_without_a_policy_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _replace_afk_seam(monkeypatch, kind="afk_typo")
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
    original = AfkRepository.set_afk

    @invalidates(names.STARBOARD_UPDATE, lambda result, data: [Change(names.STARBOARD_UPDATE)])
    async def set_afk(self: AfkRepository, data: Mapping[str, object]) -> AFK:
        return await original(self, data)

    monkeypatch.setattr(AfkRepository, "set_afk", set_afk)
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
    seam = AfkRepository.cache_seam
    assert seam is not None
    lookups = {**seam.lookups, "find_by_nickname": Lookup(key=lambda region, name: None)}
    _replace_afk_seam(monkeypatch, lookups=lookups)
    with pytest.raises(
        ConfigurationError, match=r"AfkRepository.*not in the repository \['find_by_nickname'\]"
    ):
        _database(tmp_path)


def test_an_undeclared_coroutine_method_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    async def purge(self: AfkRepository) -> None:
        """A write nothing declares: it could skip invalidation."""

    monkeypatch.setattr(AfkRepository, "purge", purge, raising=False)
    with pytest.raises(ConfigurationError, match=r"AfkRepository.*not declared \['purge'\]"):
        _database(tmp_path)


def test_a_method_declared_twice_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seam = AfkRepository.cache_seam
    assert seam is not None
    twice = Write((names.AFK_UPDATE,), lambda result, data: [Change(names.AFK_UPDATE)])
    _replace_afk_seam(monkeypatch, writes={**seam.writes, "set_afk": twice})
    with pytest.raises(ConfigurationError, match=r"AfkRepository\.set_afk is declared twice"):
        _database(tmp_path)
