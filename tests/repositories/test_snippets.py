"""``SnippetRepository`` on both backends: case-insensitive names, aliases, atomic uses, bad input."""

from __future__ import annotations

import asyncio

import pytest

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ConflictError, UnknownFieldError, ValidationError
from tux.database.models import Snippet
from tux.database.repositories.snippets import SnippetRepository
from tux.database.repositories.support import insert_guild_if_missing
from tux.database.transactions.patterns import TransactionManager

GUILD = 500_000_000_000_000_001
OTHER_GUILD = 500_000_000_000_000_002
AUTHOR = 400_000_000_000_000_001


@pytest.fixture
async def snippets(client: DatabaseClient) -> SnippetRepository:
    async with client.sessions.writing() as session:
        for guild in (GUILD, OTHER_GUILD):
            await insert_guild_if_missing(client.sessions, session, guild)
    return SnippetRepository(client.sessions)


async def make(
    snippets: SnippetRepository,
    name: str,
    content: str | None = "text",
    *,
    alias: str | None = None,
    guild_id: int = GUILD,
) -> Snippet:
    data: dict[str, object] = {"snippet_name": name, "snippet_user_id": AUTHOR, "guild_id": guild_id}
    if content is not None:
        data["snippet_content"] = content
    if alias is not None:
        data["alias"] = alias
    return await snippets.create(data)


async def test_find_by_name_ignores_case_and_guild_boundaries(snippets: SnippetRepository) -> None:
    created = await make(snippets, "Hello", "hi there")
    await make(snippets, "hello", "other guild", guild_id=OTHER_GUILD)
    for spelling in ("Hello", "hello", "HELLO", "hElLo"):
        found = await snippets.find_by_name(GUILD, spelling)
        assert found is not None
        assert (found.snippet_id, found.snippet_content) == (created.snippet_id, "hi there")
    assert await snippets.find_by_name(GUILD, "hell") is None
    assert await snippets.find_by_name(GUILD, "Hello%") is None  # no LIKE semantics
    assert await snippets.find_by_name(999, "hello") is None


async def test_find_by_name_does_not_follow_aliases(snippets: SnippetRepository) -> None:
    await make(snippets, "target", "the content")
    alias = await make(snippets, "shortcut", None, alias="target")
    found = await snippets.find_by_name(GUILD, "SHORTCUT")
    assert found is not None
    assert (found.snippet_id, found.alias, found.snippet_content) == (alias.snippet_id, "target", None)


async def test_resolve_follows_one_alias_hop(snippets: SnippetRepository) -> None:
    target = await make(snippets, "Target", "the content")
    await make(snippets, "alias", None, alias="TARGET")  # alias names its target in any case
    await make(snippets, "broken", None, alias="gone")
    await make(snippets, "chain", None, alias="alias")
    await make(snippets, "Target", "same name, other guild", guild_id=OTHER_GUILD)

    plain = await snippets.resolve(GUILD, "target")
    assert plain is not None
    assert plain.snippet_id == target.snippet_id
    via_alias = await snippets.resolve(GUILD, "ALIAS")
    assert via_alias is not None
    assert (via_alias.snippet_id, via_alias.snippet_content) == (target.snippet_id, "the content")
    assert await snippets.resolve(GUILD, "broken") is None
    assert await snippets.resolve(GUILD, "chain") is None  # alias to an alias: not followed
    assert await snippets.resolve(GUILD, "missing") is None


async def test_alias_does_not_resolve_across_guilds(snippets: SnippetRepository) -> None:
    await make(snippets, "target", "elsewhere", guild_id=OTHER_GUILD)
    await make(snippets, "alias", None, alias="target")
    assert await snippets.resolve(GUILD, "alias") is None


async def test_use_counts_on_the_resolved_target(snippets: SnippetRepository) -> None:
    target = await make(snippets, "target", "content")
    alias = await make(snippets, "alias", None, alias="target")
    await make(snippets, "broken", None, alias="gone")

    used = await snippets.use(GUILD, "Target")
    assert used is not None
    assert (used.snippet_id, used.uses) == (target.snippet_id, 1)
    via_alias = await snippets.use(GUILD, "ALIAS")
    assert via_alias is not None
    assert (via_alias.snippet_id, via_alias.uses) == (target.snippet_id, 2)
    assert await snippets.use(GUILD, "missing") is None
    assert await snippets.use(GUILD, "broken") is None
    stored_alias = await snippets.find_by_id(alias.snippet_id)
    assert stored_alias is not None
    assert stored_alias.uses == 0
    assert await snippets.count(uses=0) == 2


async def test_use_inside_a_transaction_returns_the_new_count(
    snippets: SnippetRepository, transactions: TransactionManager
) -> None:
    await make(snippets, "target", "content")
    async with transactions.transaction():
        loaded = await snippets.find_by_name(GUILD, "target")
        assert loaded is not None
        assert loaded.uses == 0
        used = await snippets.use(GUILD, "target")
        assert used is not None
        assert used.uses == 1
        again = await snippets.resolve(GUILD, "target")
        assert again is not None
        assert again.uses == 1


async def test_aliases_of_lists_aliases_of_a_target(snippets: SnippetRepository) -> None:
    await make(snippets, "target", "content")
    await make(snippets, "zeta", None, alias="target")
    await make(snippets, "Alpha", None, alias="TARGET")
    await make(snippets, "unrelated", "content")
    await make(snippets, "other", None, alias="target", guild_id=OTHER_GUILD)
    names = [alias.snippet_name for alias in await snippets.aliases_of(GUILD, "Target")]
    assert names == ["Alpha", "zeta"]
    assert await snippets.aliases_of(GUILD, "unrelated") == []


async def test_list_by_guild_pages_by_lower_cased_name(snippets: SnippetRepository) -> None:
    for name in ("delta", "Bravo", "alpha", "Echo", "charlie"):
        await make(snippets, name)
    await make(snippets, "aardvark", guild_id=OTHER_GUILD)
    pages: list[list[str]] = []
    after: str | None = None
    while page := await snippets.list_by_guild(GUILD, after_name=after, limit=2):
        pages.append([snippet.snippet_name for snippet in page])
        after = page[-1].snippet_name
    assert pages == [["alpha", "Bravo"], ["charlie", "delta"], ["Echo"]]
    assert [s.snippet_name for s in await snippets.list_by_guild(GUILD, after_name="BRAVO")] == [
        "charlie",
        "delta",
        "Echo",
    ]
    with pytest.raises(ValidationError):
        await snippets.list_by_guild(GUILD, limit=-1)


async def test_name_differing_only_in_case_is_a_conflict(snippets: SnippetRepository) -> None:
    await make(snippets, "Rules", "one")
    with pytest.raises(ConflictError) as caught:
        await make(snippets, "rULES", "two")
    assert isinstance(caught.value, ConflictError)
    assert await snippets.count() == 1
    stored = await snippets.find_by_name(GUILD, "rules")
    assert stored is not None
    assert stored.snippet_content == "one"
    await make(snippets, "rules", "fine in another guild", guild_id=OTHER_GUILD)


async def test_conflict_names_the_case_insensitive_index(snippets: SnippetRepository) -> None:
    """SQLite words it "UNIQUE constraint failed: index 'uq_...'"; the name must still come through."""
    await make(snippets, "Rules", "one")
    with pytest.raises(ConflictError) as caught:
        await make(snippets, "RULES", "two")
    assert caught.value.constraint == "uq_snippet_guild_id_lower_snippet_name"


async def test_bad_input_is_rejected_before_anything_is_written(snippets: SnippetRepository) -> None:
    assert (await make(snippets, "max", "x" * 4000)).snippet_content == "x" * 4000
    with pytest.raises(ValidationError):
        await make(snippets, "too-long", "x" * 4001)
    with pytest.raises(ValidationError):
        await make(snippets, "nul", "bad\x00content")
    with pytest.raises(ValidationError):
        await make(snippets, "n" * 101)
    with pytest.raises(UnknownFieldError):
        await snippets.create(
            {"snippet_name": "x", "guild_id": GUILD, "snippet_user_id": AUTHOR, "colour": 1}
        )
    with pytest.raises(ValidationError):
        await snippets.update(1, {"uses": "many"})
    for bad_name in ("with\x00nul", "n" * 101, 5):
        with pytest.raises(ValidationError):
            await snippets.find_by_name(GUILD, bad_name)  # type: ignore[arg-type]
        with pytest.raises(ValidationError):
            await snippets.use(GUILD, bad_name)  # type: ignore[arg-type]
    assert await snippets.count() == 1


async def test_concurrent_uses_are_all_counted(backend: str, snippets: SnippetRepository) -> None:
    """1,000 concurrent uses on PostgreSQL (100 on SQLite, whose writers queue on one lock)."""
    calls = 1000 if backend == "postgresql" else 100
    target = await make(snippets, "popular", "content")
    await make(snippets, "pop", None, alias="popular")
    names = ("Popular", "POP")
    results = await asyncio.gather(*(snippets.use(GUILD, names[i % 2]) for i in range(calls)))
    counts = sorted(result.uses for result in results if result is not None)
    assert counts == list(range(1, calls + 1))  # every call saw its own increment
    stored = await snippets.find_by_id(target.snippet_id)
    assert stored is not None
    assert stored.uses == calls
