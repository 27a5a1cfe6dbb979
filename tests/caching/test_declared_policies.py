"""A repository may declare the default policy of a kind it adds, so a new cached table needs nothing in
``caching/``: its model, migration, interface, repository (with the seam) and the facade's registration."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tests.caching.cached_db_tools import QueryCounter
from tux.database import Database
from tux.database.caching import CacheLevel, CachePolicy
from tux.database.caching import names as n
from tux.database.repositories.afk import AfkRepository
from tux.database.repositories.cached import CacheWrapper
from tux.database.repositories.interfaces import IAfkRepository

AWAY = "away_notes"
"""A kind no configuration sets."""
POLICY = CachePolicy(600, 300, frozenset({CacheLevel.MEMORY}), {n.AFK_UPDATE: None})
AFK_SEAM = AfkRepository.cache_seam
assert AFK_SEAM is not None
GUILD = 123_456_789_012_345_678
MEMBER = 223_456_789_012_345_678


class AwayRepository(AfkRepository):
    """The AFK rows under a kind of their own, whose policy is declared beside the repository."""

    cache_seam = dataclasses.replace(AFK_SEAM, kind=AWAY, policies={AWAY: POLICY})


def _wrapped(db: Database) -> IAfkRepository:
    return CacheWrapper(db.cache, db.client.sessions)(IAfkRepository, AwayRepository(db.client.sessions))


def test_a_declared_policy_is_adopted_for_a_kind_the_config_lacks(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'away.sqlite3'}")
    assert AWAY not in db.cache.config.policies
    _wrapped(db)
    assert db.cache.config.policy(AWAY) == POLICY


def test_settings_overrides_apply_on_top_of_a_declared_policy(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'away.sqlite3'}", cache_policies={AWAY: {"ttl": 7}})
    _wrapped(db)
    policy = db.cache.config.policy(AWAY)
    assert (policy.ttl, policy.negative_ttl, policy.invalidated_by) == (7, 300, POLICY.invalidated_by)


async def test_a_declared_kind_is_cached_and_invalidated_by_its_writes(database_url: str) -> None:
    async with Database(database_url) as db:
        away = _wrapped(db)
        await away.set_afk({"guild_id": GUILD, "member_id": MEMBER, "nickname": "n", "reason": "lunch"})
        assert (await away.find_by_id((MEMBER, GUILD))) is not None
        with QueryCounter(db) as queries:
            found = await away.find_by_id((MEMBER, GUILD))
        assert found is not None
        assert found.reason == "lunch"
        assert queries.count == 0, "the second read is served from the declared kind's cache"
        assert db.cache.stats().per_type[AWAY].hits["memory"] == 1
        assert await away.remove(guild_id=GUILD, member_id=MEMBER)
        assert await away.find_by_id((MEMBER, GUILD)) is None
