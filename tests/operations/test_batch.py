"""``db.batch``: bulk writes are checked first, all-or-nothing, fast-pathed and invalidate once per guild."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tux.database import Database
from tux.database.caching.keys import Targets
from tux.database.exceptions import CheckViolationError, ConfigurationError, ConflictError
from tux.database.operations.batch import BatchOperationManager, BatchValidationError

GUILD = 111_111_111_111_111_111
OTHER_GUILD = 222_222_222_222_222_222


def levels_rows(count: int, guild: int = GUILD, *, first: int = 1, xp: float = 1.0) -> list[dict[str, Any]]:
    return [{"guild_id": guild, "member_id": member, "xp": xp} for member in range(first, first + count)]


def spy_on_invalidations(db: Database) -> list[Targets]:
    """Record every invalidation ``db``'s cache sends (and still send it)."""
    sent: list[Targets] = []
    invalidate = db.cache.invalidate_targets

    async def spy(targets: Targets) -> None:
        sent.append(targets)
        await invalidate(targets)

    db.cache.invalidate_targets = spy  # type: ignore[method-assign]
    return sent


async def count_levels(db: Database, guild: int = GUILD) -> int:
    return await db.levels.count(guild_id=guild)


@pytest.mark.parametrize("rows", [10, 2500])
async def test_batch_create_writes_every_row_by_the_backends_bulk_path(db: Database, rows: int) -> None:
    with db.client.statements.recording() as seen:
        result = await db.batch.batch_create(db.levels, levels_rows(rows), returning=False)
    assert result.written == rows
    assert list(result) == []
    assert await count_levels(db) == rows
    stored = await db.levels.find_by_id((rows, GUILD))
    assert stored is not None
    assert (stored.xp, stored.level, stored.blacklisted) == (1.0, 0, False)  # client defaults filled in
    bulk = [record for record in seen if record.executemany]
    assert sum(len(record.parameters) for record in bulk) == rows  # type: ignore[arg-type]
    if db.client.backend == "postgresql":
        expected = "COPY" if rows >= db.batch.copy_threshold else "INSERT"
        assert all(record.sql.startswith(expected) for record in bulk)
    else:
        assert all(record.sql.startswith("INSERT") for record in bulk)


async def test_batch_create_returns_created_rows_with_generated_keys(db: Database) -> None:
    await db.guild_setup.onboard(GUILD)
    items = [
        {"guild_id": GUILD, "snippet_name": f"s{n}", "snippet_content": "x", "snippet_user_id": 5}
        for n in range(3)
    ]
    created = await db.batch.batch_create(db.snippets, items)
    assert [snippet.snippet_name for snippet in created] == ["s0", "s1", "s2"]
    assert len({snippet.snippet_id for snippet in created}) == 3
    assert all(snippet.snippet_created_at is not None for snippet in created)
    assert created.written == 3


async def test_a_bad_row_rejects_the_batch_with_its_index_and_sends_nothing(db: Database) -> None:
    items = levels_rows(5)
    items[3]["xp"] = "lots"
    with db.client.statements.recording() as seen, pytest.raises(BatchValidationError) as caught:
        await db.batch.batch_create(db.levels, items)
    assert caught.value.index == 3
    assert "row 3" in str(caught.value)
    assert seen == []
    assert await count_levels(db) == 0


async def test_an_unknown_field_is_refused_like_a_single_create(db: Database) -> None:
    items = [*levels_rows(2), {"guild_id": GUILD, "member_id": 9, "karma": 1}]
    with pytest.raises(BatchValidationError) as caught:
        await db.batch.batch_create(db.levels, items)
    assert caught.value.index == 2


@pytest.mark.parametrize("rows", [20, 1500])
async def test_a_row_the_database_refuses_leaves_nothing_written(db: Database, rows: int) -> None:
    items = levels_rows(rows)
    items[-1]["member_id"] = -5  # passes the type check, violates member_id > 0
    with pytest.raises(CheckViolationError):
        await db.batch.batch_create(db.levels, items, returning=False)
    assert await count_levels(db) == 0
    assert await db.guilds.find_by_id(GUILD) is None  # the guild row inserted first rolled back too


async def test_copy_joins_a_transaction_in_which_nothing_ran_yet(db: Database) -> None:
    """No guild FK to insert first: the COPY is the first statement, and still rolls back with the rest."""
    items = [{"id": guild} for guild in range(1, 1501)]
    with pytest.raises(RuntimeError):
        async with db.transaction():
            created = await db.batch.batch_create(db.guilds, items, returning=False)
            assert created.written == 1500
            assert await db.guilds.count() == 1500  # visible inside the unit of work
            raise RuntimeError("roll back")
    assert await db.guilds.count() == 0


async def test_savepoint_per_chunk_keeps_good_chunks_and_reports_failed_ones(db: Database) -> None:
    batch = BatchOperationManager(db.client, chunk_size=10, copy_threshold=5)
    items = levels_rows(30)
    items[14]["member_id"] = 1  # duplicate of row 0: a conflict in chunk 1 only
    seen: list[tuple[int, int]] = []
    result = await batch.batch_create(
        db.levels, items, returning=False, savepoint_per_chunk=True, progress=lambda *p: seen.append(p)
    )
    assert result.written == 20
    assert [(f.index, f.start, f.stop) for f in result.failed_chunks] == [(1, 10, 20)]
    assert isinstance(result.failed_chunks[0].error, ConflictError)
    assert await count_levels(db) == 20
    assert seen == [(10, 30), (20, 30), (30, 30)]


async def test_without_savepoints_one_failed_chunk_fails_the_batch(db: Database) -> None:
    batch = BatchOperationManager(db.client, chunk_size=10)
    items = levels_rows(30)
    items[24]["member_id"] = 1
    with pytest.raises(ConflictError):
        await batch.batch_create(db.levels, items)
    assert await count_levels(db) == 0


async def test_upsert_merges_duplicates_and_accumulates_against_stored_rows(db: Database) -> None:
    await db.batch.batch_create(db.levels, levels_rows(2, xp=5.0))
    items = [
        {"guild_id": GUILD, "member_id": 1, "xp": 1.0, "level": 1},
        {"guild_id": GUILD, "member_id": 3, "xp": 4.0, "level": 2},
        {"guild_id": GUILD, "member_id": 1, "xp": 2.0, "level": 3},  # same key: level 3 wins, xp adds
    ]
    with db.client.statements.recording() as seen:
        result = await db.batch.batch_upsert(db.levels, items, accumulate=["xp"], returning=True)
    assert result.written == 2
    assert any("ON CONFLICT" in record.sql for record in seen)
    one, two, three = [await db.levels.find_by_id((member, GUILD)) for member in (1, 2, 3)]
    assert one is not None
    assert (one.xp, one.level) == (8.0, 3)
    assert two is not None
    assert (two.xp, two.level) == (5.0, 0)
    assert three is not None
    assert (three.xp, three.level) == (4.0, 2)
    assert sorted(row.member_id for row in result) == [1, 3]


async def test_upsert_without_accumulate_last_row_wins(db: Database) -> None:
    items = [{"id": GUILD, "case_count": 1}, {"id": GUILD, "case_count": 7}]
    result = await db.batch.batch_upsert(db.guilds, items)
    assert result.written == 1
    stored = await db.guilds.find_by_id(GUILD)
    assert stored is not None
    assert stored.case_count == 7


async def test_batch_update_applies_each_update_and_skips_missing_ids(db: Database) -> None:
    await db.batch.batch_create(db.levels, levels_rows(3))
    updates = [((1, GUILD), {"xp": 10.0}), ((2, GUILD), {"level": 4, "xp": 2.5}), ((99, GUILD), {"xp": 1.0})]
    updated = await db.batch.batch_update(db.levels, updates)
    assert sorted((row.member_id, row.xp, row.level) for row in updated) == [(1, 10.0, 0), (2, 2.5, 4)]
    three = await db.levels.find_by_id((3, GUILD))
    assert three is not None
    assert three.xp == 1.0


async def test_batch_update_refuses_a_bad_id_before_anything_is_sent(db: Database) -> None:
    with db.client.statements.recording() as seen, pytest.raises(BatchValidationError) as caught:
        await db.batch.batch_update(db.levels, [((1, GUILD), {"xp": 1.0}), (1, {"xp": 2.0})])
    assert caught.value.index == 1
    assert seen == []


async def test_batch_delete_sends_ids_as_one_array_on_postgresql(db: Database) -> None:
    await db.batch.batch_create(db.levels, levels_rows(50))
    with db.client.statements.recording() as seen:
        result = await db.batch.batch_delete(
            db.levels, [(member, GUILD) for member in range(1, 41)] + [(77, GUILD)]
        )
    assert result.written == 40
    assert await count_levels(db) == 10
    deletes = [record for record in seen if record.sql.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 1
    if db.client.backend == "postgresql":
        assert "unnest" in deletes[0].sql.lower()


async def test_a_cached_repository_needs_the_cache(db: Database) -> None:
    from tux.database.caching import CacheManager
    from tux.database.repositories.cached import CacheWrapper
    from tux.database.repositories.guild_config import GuildConfigRepository
    from tux.database.repositories.interfaces import IGuildConfigRepository

    cached = CacheWrapper(CacheManager(), db.client.sessions)(
        IGuildConfigRepository, GuildConfigRepository(db.client.sessions)
    )
    with pytest.raises(ConfigurationError):
        await BatchOperationManager(db.client).batch_create(cached, [{"id": GUILD}])


async def test_batch_writes_invalidate_once_per_guild_after_commit(cached_db: Database) -> None:
    db = cached_db
    await db.batch.batch_create(db.levels, levels_rows(3) + levels_rows(2, OTHER_GUILD))
    before = await db.levels.find_by_id((1, GUILD))  # now cached
    other = await db.levels.find_by_id((1, OTHER_GUILD))
    assert before is not None
    assert before.xp == 1.0
    assert other is not None
    sent = spy_on_invalidations(db)
    items = [{"guild_id": GUILD, "member_id": member, "xp": 5.0} for member in range(1, 4)]
    async with db.transaction():
        await db.batch.batch_upsert(db.levels, items, accumulate=["xp"])
        assert sent == []  # nothing before the commit
    assert len(sent) == 1
    assert sent[0].names == ()  # per guild, not per member
    assert all(str(GUILD) in tag and str(OTHER_GUILD) not in tag for tag in sent[0].tags)
    after = await db.levels.find_by_id((1, GUILD))
    assert after is not None
    assert after.xp == 6.0
    assert await db.levels.find_by_id((1, OTHER_GUILD)) is not None


async def test_a_rolled_back_batch_invalidates_nothing_and_the_cache_stays_right(cached_db: Database) -> None:
    db = cached_db
    await db.batch.batch_create(db.levels, levels_rows(2))
    assert (await db.levels.find_by_id((1, GUILD))) is not None
    sent = spy_on_invalidations(db)
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.batch.batch_update(db.levels, [((1, GUILD), {"xp": 50.0})])
            raise RuntimeError("roll back")
    assert sent == []
    cached = await db.levels.find_by_id((1, GUILD))
    assert cached is not None
    assert cached.xp == 1.0
    await db.batch.batch_delete(db.levels, [(1, GUILD)])
    assert len(sent) == 1
    assert await db.levels.find_by_id((1, GUILD)) is None


async def test_rows_that_set_different_fields_keep_their_order_and_defaults(db: Database) -> None:
    items: list[dict[str, Any]] = [
        {"guild_id": GUILD, "member_id": 1, "xp": 3},  # an int for a float column: coerced like a create
        {"guild_id": GUILD, "member_id": 2, "level": 4},
        {"guild_id": GUILD, "member_id": 3, "xp": 1.5, "blacklisted": True},
    ]
    await db.batch.batch_create(db.levels, items, returning=False)
    stored = {row.member_id: (row.xp, row.level, row.blacklisted) for row in await db.levels.find_all()}
    assert stored == {1: (3.0, 0, False), 2: (0.0, 4, False), 3: (1.5, 0, True)}


async def test_rows_leaving_out_a_generated_key_others_give_go_through_sqlalchemy(db: Database) -> None:
    await db.guild_setup.onboard(GUILD)
    base = {"guild_id": GUILD, "snippet_content": "x", "snippet_user_id": 5}
    items = [{**base, "snippet_name": "a", "snippet_id": 1000}, {**base, "snippet_name": "b"}]
    result = await db.batch.batch_create(db.snippets, items, returning=False)
    assert result.written == 2
    names = {snippet.snippet_name: snippet.snippet_id for snippet in await db.snippets.find_all()}
    assert names["a"] == 1000
    assert names["b"] not in (None, 1000)


async def test_concurrent_accumulating_upserts_lose_no_increment(db: Database) -> None:
    items = [{"guild_id": GUILD, "member_id": member, "xp": 1.0} for member in range(1, 201)]

    async def award() -> None:
        await db.batch.batch_upsert(db.levels, items, accumulate=["xp"])

    await asyncio.gather(*(award() for _ in range(6)))
    totals = {row.xp for row in await db.levels.find_all(guild_id=GUILD)}
    assert totals == {6.0}
    assert await count_levels(db) == 200
