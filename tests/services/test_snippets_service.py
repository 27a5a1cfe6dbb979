"""SnippetService on both backends: names, the alias rule, uses under concurrency, edit/delete rules."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from tests.repositories import assert_rejected_before_sql, row_counts
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.member_status import MemberStatusRepository
from tux.database.repositories.snippets import SnippetRepository
from tux.database.services.snippets import SnippetDeletion, SnippetService
from tux.database.settings import DatabaseSettings
from tux.database.transactions.patterns import TransactionManager

T = TypeVar("T")

GUILD = 111_111_111_111_111_111
AUTHOR = 333_333_333_333_333_331
OTHER = 333_333_333_333_333_332
MOD = 444_444_444_444_444_444


@pytest.fixture
def snippets(client: DatabaseClient) -> SnippetRepository:
    return SnippetRepository(client.sessions)


@pytest.fixture
def member_status(client: DatabaseClient) -> MemberStatusRepository:
    return MemberStatusRepository(client.sessions)


@pytest.fixture
def service(
    transactions: TransactionManager, snippets: SnippetRepository, member_status: MemberStatusRepository
) -> SnippetService:
    return SnippetService(
        transactions,
        snippets=snippets,
        member_status=member_status,
        guilds=GuildRepository(snippets.sessions),
    )


async def names(snippets: SnippetRepository) -> dict[str, str | None]:
    """Every snippet of the guild as ``{name: alias target}``."""
    return {s.snippet_name: s.alias for s in await snippets.list_by_guild(GUILD, limit=1000)}


# --- names and content -----------------------------------------------------------------------------

GOOD_NAMES = ("a", "Z", "tux-rules_2", "-", "_", "x" * 100)
BAD_NAMES: tuple[object, ...] = (
    "",
    "x" * 101,
    "two words",
    "tab\tname",
    "line\nbreak",
    "trailing\n",
    "nul\x00",
    "naïve",
    "émoji🙂",
    "a/b",
    "a.b",
    " lead",
    None,
    42,
)


@pytest.mark.parametrize("name", GOOD_NAMES)
async def test_valid_names_are_accepted(service: SnippetService, name: str) -> None:
    created = await service.create(GUILD, name, "content", AUTHOR)
    assert created.snippet_name == name


@pytest.mark.parametrize("name", BAD_NAMES)
async def test_invalid_names_are_rejected_everywhere_before_sql(
    client: DatabaseClient, service: SnippetService, name: Any
) -> None:
    await assert_rejected_before_sql(
        client.engine,
        {
            "create": lambda: service.create(GUILD, name, "content", AUTHOR),
            "alias name": lambda: service.create_alias(GUILD, name, "target", AUTHOR),
            "alias target": lambda: service.create_alias(GUILD, "fresh", name, AUTHOR),
            "get": lambda: service.get(GUILD, name),
            "edit": lambda: service.edit(GUILD, name, "x", AUTHOR, is_moderator=True),
            "delete": lambda: service.delete(GUILD, name, AUTHOR, is_moderator=True),
            "set_locked": lambda: service.set_locked(GUILD, name, True),
        },
    )


@pytest.mark.parametrize("content", ["", "   \n\t", "nul\x00byte", "x" * 4001, None, 7])
async def test_invalid_content_is_rejected(
    client: DatabaseClient, service: SnippetService, content: object
) -> None:
    await service.create(GUILD, "existing", "ok", AUTHOR)
    before = await row_counts(client)
    with pytest.raises(ValidationError):
        await service.create(GUILD, "new", content, AUTHOR)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        await service.edit(GUILD, "existing", content, AUTHOR, is_moderator=False)  # type: ignore[arg-type]
    assert await row_counts(client) == before


async def test_content_of_4000_characters_is_accepted(service: SnippetService) -> None:
    created = await service.create(GUILD, "long", "x" * 4000, AUTHOR)
    assert created.snippet_content == "x" * 4000


async def test_names_are_unique_in_any_letter_case(
    service: SnippetService, snippets: SnippetRepository
) -> None:
    await service.create(GUILD, "Rules", "one", AUTHOR)
    with pytest.raises(ConflictError):
        await service.create(GUILD, "rULES", "two", OTHER)
    with pytest.raises(ConflictError):
        await service.create_alias(GUILD, "RULES", "Rules", OTHER)
    assert await names(snippets) == {"Rules": None}


# --- create, get and the alias rule ----------------------------------------------------------------


async def test_create_then_get_counts_uses(service: SnippetService) -> None:
    created = await service.create(GUILD, "hello", "Hello, world!", AUTHOR)
    assert (created.snippet_content, created.uses, created.alias, created.locked) == (
        "Hello, world!",
        0,
        None,
        False,
    )
    first = await service.get(GUILD, "HELLO")
    second = await service.get(GUILD, "hello")
    assert first is not None
    assert second is not None
    assert (first.snippet_content, first.uses, second.uses) == ("Hello, world!", 1, 2)


async def test_get_of_an_unknown_name_is_none_and_writes_nothing(
    client: DatabaseClient, service: SnippetService
) -> None:
    before = await row_counts(client)
    assert await service.get(GUILD, "missing") is None
    assert await row_counts(client) == before


async def test_content_naming_a_snippet_makes_an_alias(
    service: SnippetService, snippets: SnippetRepository
) -> None:
    await service.create(GUILD, "target", "the text", AUTHOR)
    alias = await service.create(GUILD, "shortcut", "TARGET", OTHER)
    assert (alias.alias, alias.snippet_content, alias.snippet_user_id) == ("target", None, OTHER)
    resolved = await service.get(GUILD, "shortcut")
    assert resolved is not None
    assert (resolved.snippet_name, resolved.snippet_content, resolved.uses) == ("target", "the text", 1)
    assert await names(snippets) == {"shortcut": "target", "target": None}


async def test_content_naming_an_alias_aliases_its_target(
    service: SnippetService, snippets: SnippetRepository
) -> None:
    await service.create(GUILD, "target", "the text", AUTHOR)
    await service.create(GUILD, "first", "target", AUTHOR)
    second = await service.create(GUILD, "second", "first", AUTHOR)
    assert second.alias == "target"
    resolved = await service.get(GUILD, "second")
    assert resolved is not None
    assert resolved.snippet_name == "target"


@pytest.mark.parametrize("content", ["target please", "target ", "see: target", "targets"])
async def test_content_that_is_not_exactly_a_name_stays_content(
    service: SnippetService, content: str
) -> None:
    await service.create(GUILD, "target", "the text", AUTHOR)
    created = await service.create(GUILD, "other", content, AUTHOR)
    assert (created.alias, created.snippet_content) == (None, content)


async def test_create_alias_validates_its_target(
    service: SnippetService, snippets: SnippetRepository
) -> None:
    await service.create(GUILD, "target", "the text", AUTHOR)
    await service.create_alias(GUILD, "alias1", "Target", AUTHOR)
    with pytest.raises(NotFoundError):
        await service.create_alias(GUILD, "alias2", "missing", AUTHOR)
    with pytest.raises(ValidationError, match="itself an alias"):
        await service.create_alias(GUILD, "alias2", "alias1", AUTHOR)
    with pytest.raises(ConflictError):
        await service.create_alias(GUILD, "ALIAS1", "target", AUTHOR)
    assert await names(snippets) == {"alias1": "target", "target": None}


async def test_a_first_snippet_creates_the_guild_row(client: DatabaseClient, service: SnippetService) -> None:
    assert (await row_counts(client))["guild"] == 0
    await service.create(GUILD, "first", "text", AUTHOR)
    assert (await row_counts(client))["guild"] == 1


def concurrent_gets(backend: str) -> int:
    """1,000 on PostgreSQL; SQLite runs one writer at a time, so fewer keep the test quick."""
    return 1000 if backend == "postgresql" else 200


@pytest.fixture
async def patient_client(database_url: str) -> AsyncIterator[DatabaseClient]:
    """A client whose callers wait for a pooled connection as long as it takes.

    Every use of one snippet holds its row lock until commit, so the gets commit one after another; with
    1,000 of them queued on 20 connections the default 10 s pool timeout would expire first.
    """
    patient = DatabaseClient(DatabaseSettings(database_url=database_url, pool_timeout=300))
    await patient.connect()
    try:
        yield patient
    finally:
        await patient.close()


@pytest.mark.slow
async def test_concurrent_gets_count_every_use(backend: str, patient_client: DatabaseClient) -> None:
    snippets = SnippetRepository(patient_client.sessions)
    service = SnippetService(
        TransactionManager(patient_client.sessions),
        snippets=snippets,
        member_status=MemberStatusRepository(patient_client.sessions),
        guilds=GuildRepository(patient_client.sessions),
    )
    await service.create(GUILD, "popular", "text", AUTHOR)
    await service.create(GUILD, "pop", "popular", AUTHOR)
    total = concurrent_gets(backend)
    results = await asyncio.gather(*(service.get(GUILD, "pop" if i % 2 else "popular") for i in range(total)))
    assert all(result is not None and result.snippet_name == "popular" for result in results)
    assert sorted(result.uses for result in results if result is not None) == list(range(1, total + 1))
    stored = await snippets.find_by_name(GUILD, "popular")
    alias = await snippets.find_by_name(GUILD, "pop")
    assert stored is not None
    assert alias is not None
    assert (stored.uses, alias.uses) == (total, 0)


# --- snippet ban -----------------------------------------------------------------------------------


async def test_snippet_banned_members_cannot_create_or_edit(
    client: DatabaseClient, service: SnippetService, member_status: MemberStatusRepository
) -> None:
    await service.create(GUILD, "mine", "text", AUTHOR)
    await member_status.set_status(GUILD, AUTHOR, {"is_snippet_banned": True})
    before = await row_counts(client)
    with pytest.raises(PermissionDeniedError, match="snippet-banned"):
        await service.create(GUILD, "new", "text", AUTHOR)
    with pytest.raises(PermissionDeniedError, match="snippet-banned"):
        await service.create_alias(GUILD, "new", "mine", AUTHOR)
    with pytest.raises(PermissionDeniedError, match="snippet-banned"):
        await service.edit(GUILD, "mine", "changed", AUTHOR, is_moderator=False)
    assert await row_counts(client) == before
    await member_status.set_status(GUILD, AUTHOR, {"is_snippet_banned": False})
    assert (
        await service.edit(GUILD, "mine", "changed", AUTHOR, is_moderator=False)
    ).snippet_content == "changed"


async def test_a_status_row_without_the_ban_does_not_block(
    service: SnippetService, member_status: MemberStatusRepository
) -> None:
    await member_status.set_status(GUILD, AUTHOR, {"is_jailed": True})
    assert (await service.create(GUILD, "fine", "text", AUTHOR)).snippet_name == "fine"


# --- edit, lock, delete ----------------------------------------------------------------------------


async def test_edit_rules(service: SnippetService) -> None:
    await service.create(GUILD, "mine", "v1", AUTHOR)
    assert (await service.edit(GUILD, "MINE", "v2", AUTHOR, is_moderator=False)).snippet_content == "v2"
    with pytest.raises(PermissionDeniedError, match="another member"):
        await service.edit(GUILD, "mine", "hijack", OTHER, is_moderator=False)
    assert (await service.edit(GUILD, "mine", "v3", MOD, is_moderator=True)).snippet_content == "v3"
    with pytest.raises(NotFoundError):
        await service.edit(GUILD, "missing", "x", AUTHOR, is_moderator=True)
    fetched = await service.get(GUILD, "mine")
    assert fetched is not None
    assert fetched.snippet_content == "v3"


async def test_locked_snippets_change_only_by_moderators(service: SnippetService) -> None:
    await service.create(GUILD, "rules", "v1", AUTHOR)
    await service.create(GUILD, "r", "rules", AUTHOR)
    locked = await service.set_locked(GUILD, "Rules", True)
    assert locked.locked
    via_alias = await service.get(GUILD, "r")
    assert via_alias is not None
    assert via_alias.locked
    with pytest.raises(PermissionDeniedError, match="locked"):
        await service.edit(GUILD, "rules", "v2", AUTHOR, is_moderator=False)
    with pytest.raises(PermissionDeniedError, match="locked"):
        await service.delete(GUILD, "rules", AUTHOR, is_moderator=False)
    assert (await service.edit(GUILD, "rules", "v2", MOD, is_moderator=True)).snippet_content == "v2"
    assert not (await service.set_locked(GUILD, "rules", False)).locked
    assert (await service.edit(GUILD, "rules", "v3", AUTHOR, is_moderator=False)).snippet_content == "v3"


async def test_set_locked_validates(service: SnippetService) -> None:
    with pytest.raises(NotFoundError):
        await service.set_locked(GUILD, "missing", True)
    await service.create(GUILD, "rules", "v1", AUTHOR)
    with pytest.raises(ValidationError):
        await service.set_locked(GUILD, "rules", 1)  # type: ignore[arg-type]


async def test_editing_an_alias_is_refused(service: SnippetService) -> None:
    await service.create(GUILD, "target", "v1", AUTHOR)
    await service.create(GUILD, "alias", "target", AUTHOR)
    with pytest.raises(ValidationError, match="alias of 'target'"):
        await service.edit(GUILD, "alias", "v2", AUTHOR, is_moderator=True)


async def test_delete_removes_the_aliases_of_a_snippet(
    service: SnippetService, snippets: SnippetRepository
) -> None:
    await service.create(GUILD, "target", "v1", AUTHOR)
    await service.create(GUILD, "keep", "other text", AUTHOR)
    await service.create(GUILD, "b-alias", "target", OTHER)
    await service.create(GUILD, "a-alias", "Target", MOD)
    await service.create(GUILD, "keep-alias", "keep", AUTHOR)
    await service.set_locked(GUILD, "a-alias", True)
    deletion = await service.delete(GUILD, "TARGET", AUTHOR, is_moderator=False)
    assert deletion == SnippetDeletion(name="target", aliases_removed=("a-alias", "b-alias"))
    assert await names(snippets) == {"keep": None, "keep-alias": "keep"}
    assert await service.get(GUILD, "a-alias") is None


async def test_deleting_an_alias_leaves_its_target(
    service: SnippetService, snippets: SnippetRepository
) -> None:
    await service.create(GUILD, "target", "v1", AUTHOR)
    await service.create(GUILD, "alias", "target", OTHER)
    assert await service.delete(GUILD, "alias", OTHER, is_moderator=False) == SnippetDeletion("alias", ())
    assert await names(snippets) == {"target": None}


async def test_delete_permissions(
    client: DatabaseClient, service: SnippetService, snippets: SnippetRepository
) -> None:
    await service.create(GUILD, "target", "v1", AUTHOR)
    await service.create(GUILD, "alias", "target", AUTHOR)
    before = await row_counts(client)
    with pytest.raises(PermissionDeniedError, match="another member"):
        await service.delete(GUILD, "target", OTHER, is_moderator=False)
    with pytest.raises(NotFoundError):
        await service.delete(GUILD, "missing", MOD, is_moderator=True)
    assert await row_counts(client) == before
    assert (await service.delete(GUILD, "target", MOD, is_moderator=True)).aliases_removed == ("alias",)
    assert await names(snippets) == {}


# --- races between aliasing and deleting -----------------------------------------------------------


def in_own_task(awaitable: Awaitable[T]) -> asyncio.Task[T]:
    """Run ``awaitable`` as a separate task outside the caller's unit of work (a second bot request)."""

    async def run() -> T:
        return await awaitable

    return asyncio.create_task(run(), context=contextvars.Context())


async def wait_until_blocked_on_a_lock(client: DatabaseClient, backend: str) -> None:
    """PostgreSQL: return once another backend of this database waits for a row lock.

    SQLite takes its write lock at ``BEGIN IMMEDIATE``, so there the second writer simply runs after the
    first commits and nothing needs to be awaited.
    """
    if backend != "postgresql":
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(30):
        while True:
            async with client.engine.connect() as connection:
                if (await connection.execute(query)).scalar_one() > 0:
                    return
            await asyncio.sleep(0.01)


async def test_delete_waiting_on_a_new_alias_removes_it_too(
    backend: str,
    client: DatabaseClient,
    transactions: TransactionManager,
    service: SnippetService,
    snippets: SnippetRepository,
) -> None:
    await service.create(GUILD, "target", "v1", AUTHOR)
    async with transactions.transaction():
        await service.create_alias(GUILD, "late", "target", OTHER)
        deleting = in_own_task(service.delete(GUILD, "target", AUTHOR, is_moderator=False))
        await wait_until_blocked_on_a_lock(client, backend)
    assert (await deleting).aliases_removed == ("late",)
    assert await names(snippets) == {}


async def test_alias_waiting_on_a_delete_fails_cleanly(
    backend: str,
    client: DatabaseClient,
    transactions: TransactionManager,
    service: SnippetService,
    snippets: SnippetRepository,
) -> None:
    await service.create(GUILD, "target", "v1", AUTHOR)
    async with transactions.transaction():
        await service.delete(GUILD, "target", AUTHOR, is_moderator=False)
        aliasing = in_own_task(service.create_alias(GUILD, "late", "target", OTHER))
        await wait_until_blocked_on_a_lock(client, backend)
    with pytest.raises(NotFoundError):
        await aliasing
    assert await names(snippets) == {}


async def test_racing_aliases_and_deletes_never_leave_a_dangling_alias(
    service: SnippetService, snippets: SnippetRepository
) -> None:
    for round_number in range(10):
        target = f"t{round_number}"
        await service.create(GUILD, target, "text", AUTHOR)
        outcomes = await asyncio.gather(
            *(service.create_alias(GUILD, f"{target}-a{i}", target, OTHER) for i in range(5)),
            service.delete(GUILD, target, AUTHOR, is_moderator=False),
            return_exceptions=True,
        )
        assert all(not isinstance(o, BaseException) or isinstance(o, NotFoundError) for o in outcomes)
    assert await names(snippets) == {}
