"""Events mapped to keys and groups, applied in one step."""

from __future__ import annotations

import pytest

from tests.caching.conftest import CacheFactory, wait_until
from tests.caching.test_manager import Gate
from tux.database.caching.config import CacheConfig
from tux.database.caching.invalidation import CacheInvalidationManager
from tux.database.caching.keys import Targets
from tux.database.caching.manager import CacheManager
from tux.database.caching.types import MISS
from tux.database.exceptions import ValidationError


def test_events_map_to_keys_and_groups() -> None:
    rules = CacheInvalidationManager(CacheManager())
    assert rules.targets("xp_update", guild_id=1, user_id=2) == Targets(
        names=("user_levels:1:2", "levels_message:1:2"), tags=("levels_leaderboard:1", "levels_rank:1")
    )
    assert rules.targets("guild_config_update", guild_id=1) == Targets(tags=("guild_config:1",))
    assert rules.targets("member_status_update", guild_id=1, user_id=3) == Targets(
        names=("member_status:1:3",)
    )
    assert rules.targets("case_update", guild_id=5) == Targets(tags=("cases:5", "case_stats:5"))
    everything = rules.targets("guild_delete", guild_id=7)
    assert "cases:7" in everything.tags
    assert "guild_config:7" in everything.tags
    assert not everything.names


def test_unknown_events_and_missing_fields_are_refused() -> None:
    rules = CacheInvalidationManager(CacheManager())
    with pytest.raises(ValidationError):
        rules.targets("xp_updated", guild_id=1)
    with pytest.raises(ValidationError):
        rules.targets("xp_update", guild_id=1)


def test_rules_can_be_added_and_come_from_the_config() -> None:
    config = CacheConfig().with_policy(
        "reminders", ttl=60, negative_ttl=0, invalidated_by={"reminder_update": None}
    )
    rules = CacheInvalidationManager(CacheManager(config))
    assert rules.targets("reminder_update", guild_id=1) == Targets(tags=("reminders:1",))
    rules.register("reminder_update", "afk", ("user_id",))
    assert rules.targets("reminder_update", guild_id=1, user_id=4).names == ("afk:1:4",)


async def test_targets_invalidate_across_processes(make_cache: CacheFactory) -> None:
    first, second = await make_cache(), await make_cache()
    user = second.region("user_levels").key(1, 2)
    board = second.region("levels_leaderboard").key(1, "top")
    other_user = second.region("user_levels").key(1, 3)
    for key in (user, board, other_user):
        await second.get_or_load(key, Gate("cached"))
    await first.invalidate_targets(
        CacheInvalidationManager(first).targets("xp_update", guild_id=1, user_id=2)
    )
    await wait_until(lambda: second.stats().memory_entries == 1)
    assert await second.get(user) is MISS
    assert await second.get(board) is MISS
    assert await second.get(other_user) == "cached"
    assert first.stats().invalidations_sent == 1
