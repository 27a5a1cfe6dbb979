"""AuditLogRepository on both backends: appends, keyset pages, and refusal to modify entries."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from tests.repositories import Call, assert_rejected_before_sql, row_counts
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ForeignKeyError, ValidationError
from tux.database.models import CaseType
from tux.database.repositories.audit_log import AuditLogRepository
from tux.database.repositories.cases import CaseRepository
from tux.database.repositories.guild import GuildRepository

GUILD = 61
OTHER_GUILD = 62
ACTOR = 71


@pytest.fixture
async def audit(client: DatabaseClient) -> AuditLogRepository:
    guilds = GuildRepository(client.sessions)
    await guilds.ensure(GUILD)
    await guilds.ensure(OTHER_GUILD)
    return AuditLogRepository(client.sessions)


async def test_append(audit: AuditLogRepository, client: DatabaseClient) -> None:
    cases = CaseRepository(client.sessions)
    case = await cases.create(
        {
            "guild_id": GUILD,
            "case_number": 1,
            "case_type": CaseType.BAN,
            "case_reason": "spam",
            "case_moderator_id": ACTOR,
            "case_user_id": 99,
        }
    )
    entry = await audit.append(
        GUILD, ACTOR, "case.create", target_id=99, case_id=case.id, details={"reason": "spam", "n": [1, 2]}
    )
    assert (entry.guild_id, entry.actor_id, entry.action, entry.target_id, entry.case_id) == (
        GUILD,
        ACTOR,
        "case.create",
        99,
        case.id,
    )
    assert entry.details == {"reason": "spam", "n": [1, 2]}
    assert entry.created_at.tzinfo is not None
    bare = await audit.append(GUILD, ACTOR, "config.prefix")
    assert (bare.target_id, bare.case_id, bare.details) == (None, None, {})
    assert bare.id > entry.id
    stored = await audit.find_by_id(entry.id)
    assert stored is not None
    assert stored.details == {"reason": "spam", "n": [1, 2]}


async def test_entry_survives_its_case(audit: AuditLogRepository, client: DatabaseClient) -> None:
    cases = CaseRepository(client.sessions)
    case = await cases.create(
        {
            "guild_id": GUILD,
            "case_number": 1,
            "case_type": CaseType.WARN,
            "case_reason": "r",
            "case_moderator_id": ACTOR,
            "case_user_id": 99,
        }
    )
    entry = await audit.append(GUILD, ACTOR, "case.create", case_id=case.id)
    assert await cases.delete(case.id)
    stored = await audit.find_by_id(entry.id)
    assert stored is not None
    assert stored.case_id is None


async def test_page_is_newest_first_with_keyset(audit: AuditLogRepository) -> None:
    ids = [(await audit.append(GUILD, ACTOR, f"action.{i}")).id for i in range(7)]
    await audit.append(OTHER_GUILD, ACTOR, "elsewhere")
    pages: list[list[int]] = []
    before: int | None = None
    while page := await audit.page(GUILD, before_id=before, limit=3):
        pages.append([entry.id for entry in page])
        before = page[-1].id
    newest_first = ids[::-1]
    assert pages == [newest_first[0:3], newest_first[3:6], newest_first[6:]]
    assert [e.action for e in await audit.page(OTHER_GUILD)] == ["elsewhere"]
    assert await audit.page(GUILD, before_id=ids[0]) == []


async def test_entries_cannot_be_changed(audit: AuditLogRepository, client: DatabaseClient) -> None:
    entry = await audit.append(GUILD, ACTOR, "config.prefix", details={"old": "$", "new": "!"})
    calls: dict[str, Call] = {
        "update": lambda: audit.update(entry.id, {"action": "forged"}),
        "delete": lambda: audit.delete(entry.id),
        "upsert": lambda: audit.upsert(
            {"id": entry.id, "guild_id": GUILD, "actor_id": ACTOR, "action": "forged"}
        ),
    }
    await assert_rejected_before_sql(client.engine, calls)
    with pytest.raises(ValidationError, match="append-only"):
        await audit.delete(entry.id)
    stored = await audit.find_by_id(entry.id)
    assert stored is not None
    assert (stored.action, stored.details) == ("config.prefix", {"old": "$", "new": "!"})


async def test_append_to_unknown_guild_is_a_foreign_key_error(
    backend: str, audit: AuditLogRepository
) -> None:
    with pytest.raises(ForeignKeyError) as caught:
        await audit.append(999, ACTOR, "x")
    if backend == "postgresql":
        assert caught.value.constraint == "fk_audit_log_guild_id_guild"
    assert await audit.count() == 0


async def test_append_validates_before_sql(audit: AuditLogRepository, client: DatabaseClient) -> None:
    before = await row_counts(client)
    bad: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
        "action too long": ((GUILD, ACTOR, "a" * 65), {}),
        "action NUL": ((GUILD, ACTOR, "a\x00b"), {}),
        "action None": ((GUILD, ACTOR, None), {}),
        "actor str": ((GUILD, "71", "x"), {}),
        "actor 2**64": ((GUILD, 2**64, "x"), {}),
        "target bool": ((GUILD, ACTOR, "x"), {"target_id": False}),
        "details not a mapping": ((GUILD, ACTOR, "x"), {"details": ["a"]}),
        "details str": ((GUILD, ACTOR, "x"), {"details": "{}"}),
        "details not JSON": ((GUILD, ACTOR, "x"), {"details": {"ids": {1, 2}}}),
        "details NUL": ((GUILD, ACTOR, "x"), {"details": {"note": "a\x00"}}),
        "details infinity": ((GUILD, ACTOR, "x"), {"details": {"score": float("inf")}}),
    }
    calls: dict[str, Call] = {label: partial(audit.append, *a, **k) for label, (a, k) in bad.items()}
    calls["page limit 0"] = lambda: audit.page(GUILD, limit=0)
    calls["page limit too big"] = lambda: audit.page(GUILD, limit=5000)
    calls["page before str"] = lambda: audit.page(GUILD, before_id="5")  # type: ignore[arg-type]
    await assert_rejected_before_sql(client.engine, calls)
    assert await row_counts(client) == before
