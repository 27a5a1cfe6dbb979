"""Guild isolation: no repository, service or cached lookup called with guild A's id returns guild B's data.

Two guilds hold the same shapes of data under the same member ids, snippet names and case numbers.
Hypothesis draws sequences of reads (and a few writes) of every method that takes a guild id, against
either guild, through the cached ``Database``; each result must hold only rows of the guild asked for
and equal what an uncached ``Database`` on the same database answers at that moment.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile.catalogue import Method, Param, baseline, catalogue
from tests.hostile.values import HOSTILE
from tux.database import Database
from tux.database.models import Base, utcnow
from tux.database.repositories.validation import column_specs

GUILD_A = 6_100_000_000_000_001
GUILD_B = 6_100_000_000_000_002
MEMBERS = (1001, 1002)
NAMES = ("rules", "faq")

READ_PREFIXES = (
    "find_",
    "get",
    "list_",
    "resolve",
    "aliases_of",
    "history",
    "latest_of_types",
    "count_by_type",
    "page",
    "ranks_of_guild",
    "member_rank",
    "command_rank",
    "leaderboard",
    "rank",
    "role_rewards",
    "role_multipliers",
    "blacklisted_channels",
    "pending",
    "message_context",
    "is_",
    "timed_out_until",
)
WRITES = {
    ("levels", "add_xp"),
    ("moderation_service", "warn_user"),
    ("snippet_service", "edit"),
    ("guild_configs", "upsert_config"),
    ("afk_service", "clear_afk"),
    ("cases", "get_next_case_number"),
    ("snippet_service", "get"),
}
"""Writes drawn between the reads, so cached answers are checked after invalidations too (a snippet
``get`` counts a use and ``get_next_case_number`` allocates: both write)."""


def takes_guild(method: Method) -> bool:
    return any(param.name == "guild_id" for param in method.params)


READS = [
    m
    for m in catalogue()
    if takes_guild(m) and m.name.startswith(READ_PREFIXES) and (m.owner, m.name) not in WRITES
]
MIXED = READS + [m for m in catalogue() if (m.owner, m.name) in WRITES]


def argument(method: Method, param: Param, guild_id: int) -> st.SearchStrategy[object]:
    """Arguments from small pools both guilds share, so a key missing its guild would collide."""
    if param.name == "guild_id":
        return st.just(guild_id)
    if param.name in ("member_id", "user_id"):
        return st.sampled_from(MEMBERS)
    if param.name in ("name", "after_name"):
        return st.sampled_from(NAMES)
    if param.name in ("case_number", "before_case_number"):
        return st.sampled_from((1, 2, 3))
    if param.name == "data" and method.name == "upsert_config":
        return st.builds(lambda prefix: {"prefix": prefix}, st.sampled_from(("a!", "b!", "c!")))
    return st.just(baseline(method, param))


def owner_guild(instance: Base) -> int:
    for name in ("guild_id", "message_guild_id"):
        if hasattr(instance, name):
            return int(getattr(instance, name))
    return int(instance.id)  # type: ignore[attr-defined]  # guild, guild_config: keyed by guild id


def plain(value: Any, guild_id: int) -> Any:
    """``value`` as plain data, asserting every row in it belongs to ``guild_id``."""
    if isinstance(value, Base):
        assert owner_guild(value) == guild_id, (
            f"guild {guild_id} got a row of {owner_guild(value)}: {value!r}"
        )
        return {name: plain(getattr(value, name), guild_id) for name in column_specs(type(value))}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            field.name: plain(getattr(value, field.name), guild_id) for field in dataclasses.fields(value)
        }
    if isinstance(value, (list, tuple)):
        return [plain(item, guild_id) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item, guild_id) for item in value)
    if isinstance(value, dict):
        return {plain(key, guild_id): plain(item, guild_id) for key, item in value.items()}
    return value.value if isinstance(value, enum.Enum) else value


async def fill(db: Database, guild_id: int, flavour: str) -> None:
    """Give ``guild_id`` data of every kind, with values that differ between the guilds."""
    await db.guild_setup.onboard(guild_id, prefix=f"{flavour}!")
    for number, name in enumerate(NAMES, start=1):
        await db.snippet_service.create(guild_id, name, f"{flavour} {name}", MEMBERS[0])
        await db.moderation.warn_user(guild_id, MEMBERS[0], f"{flavour} warning {number}", MEMBERS[1])
    await db.moderation.ban_user(guild_id, MEMBERS[1], f"{flavour} ban", MEMBERS[0])
    await db.levels.add_xp(guild_id=guild_id, member_id=MEMBERS[0], amount=10.0 if flavour == "a" else 99.0)
    await db.levels.add_xp(guild_id=guild_id, member_id=MEMBERS[1], amount=5.0)
    await db.afk_service.set_afk(guild_id, MEMBERS[0], f"{flavour} nick", f"{flavour} away")
    await db.reminder_service.create(
        guild_id, MEMBERS[0], 2001, f"{flavour} reminder", utcnow() + timedelta(days=1)
    )
    await db.levels_config.set_role_multiplier(guild_id, 3001, 2.0 if flavour == "a" else 3.0)
    await db.levels_config.set_channel_blacklisted(guild_id, 2002 if flavour == "a" else 2003, True)
    await db.permissions.set_command_rank(guild_id, "ban", 3 if flavour == "a" else 4)


@pytest.fixture
async def two_guilds(cached_db: Database, database_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """The cached database with guilds A and B filled, and an uncached one on the same database."""
    await fill(cached_db, GUILD_A, "a")
    await fill(cached_db, GUILD_B, "b")
    async with Database(database_url, cache_enabled=False) as uncached:
        yield cached_db, uncached


def test_every_read_that_takes_a_guild_is_drawn() -> None:
    owners = {method.owner for method in READS}
    assert {"guild_configs", "cases", "snippets", "levels", "moderation_service", "afk_service"} <= owners
    assert len(READS) >= 30


@HOSTILE
@given(data=st.data())
async def test_a_guild_never_sees_another_guilds_data(
    two_guilds: tuple[Database, Database], data: st.DataObject
) -> None:
    cached, uncached = two_guilds
    for _ in range(data.draw(st.integers(1, 6), label="calls")):
        method = data.draw(st.sampled_from(MIXED), label="method")
        guild_id = data.draw(st.sampled_from((GUILD_A, GUILD_B)), label="guild")
        kwargs = {
            param.name: data.draw(argument(method, param, guild_id), label=param.name)
            for param in method.params
        }
        answer = plain(await method.bound(cached)(**kwargs), guild_id)
        if (method.owner, method.name) not in WRITES:
            truth = plain(await method.bound(uncached)(**kwargs), guild_id)
            assert answer == truth, f"{method}(**{kwargs!r}): cached {answer!r} != database {truth!r}"


def test_a_row_of_the_other_guild_is_caught() -> None:
    from tux.database.models import Snippet

    row = Snippet(guild_id=GUILD_B, snippet_name="rules", snippet_content="b rules", snippet_user_id=1)
    assert plain([row], GUILD_B)[0]["guild_id"] == GUILD_B
    with pytest.raises(AssertionError, match="got a row of"):
        plain({"page": (row,)}, GUILD_A)
