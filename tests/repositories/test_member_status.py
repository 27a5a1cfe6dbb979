"""MemberStatusRepository on both backends: partial upserts and primary-key reads."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import pytest

from tests.repositories import NOW, Call, assert_rejected_before_sql, at, captured_sql, queries, row_counts
from tux.database.core.client import DatabaseClient
from tux.database.exceptions import CheckViolationError, UnknownFieldError
from tux.database.models import utcnow
from tux.database.repositories.member_status import MemberStatusRepository
from tux.database.transactions.patterns import TransactionManager

GUILD = 31
MEMBER = 41


@pytest.fixture
def statuses(client: DatabaseClient) -> MemberStatusRepository:
    return MemberStatusRepository(client.sessions)


async def test_get_status_of_untouched_member(statuses: MemberStatusRepository) -> None:
    assert statuses.primary_key == ("guild_id", "member_id")
    assert await statuses.get_status(GUILD, MEMBER) is None


async def test_set_status_creates_guild_and_row(
    client: DatabaseClient, statuses: MemberStatusRepository
) -> None:
    before = utcnow()
    status = await statuses.set_status(GUILD, MEMBER, {"is_jailed": True})
    assert (status.guild_id, status.member_id, status.is_jailed) == (GUILD, MEMBER, True)
    assert (status.is_banned, status.is_snippet_banned, status.is_poll_banned, status.timed_out_until) == (
        False,
        False,
        False,
        None,
    )
    assert status.updated_at >= before
    counts = await row_counts(client)
    assert (counts["guild"], counts["member_status"]) == (1, 1)


async def test_set_status_keeps_fields_not_given(statuses: MemberStatusRepository) -> None:
    first = await statuses.set_status(GUILD, MEMBER, {"is_jailed": True, "timed_out_until": at(30)})
    second = await statuses.set_status(GUILD, MEMBER, {"is_snippet_banned": True})
    assert (second.is_jailed, second.is_snippet_banned, second.timed_out_until) == (True, True, at(30))
    assert second.updated_at >= first.updated_at
    third = await statuses.set_status(GUILD, MEMBER, {"is_jailed": False, "timed_out_until": None})
    assert (third.is_jailed, third.is_snippet_banned, third.timed_out_until) == (False, True, None)
    stored = await statuses.get_status(GUILD, MEMBER)
    assert stored is not None
    assert (stored.is_jailed, stored.is_snippet_banned, stored.timed_out_until) == (False, True, None)
    assert await statuses.get_status(GUILD, MEMBER + 1) is None
    assert await statuses.get_status(GUILD + 1, MEMBER) is None


async def test_set_status_writes_updated_at(client: DatabaseClient, statuses: MemberStatusRepository) -> None:
    await statuses.set_status(GUILD, MEMBER, {"is_banned": True})
    await statuses.update((GUILD, MEMBER), {"updated_at": at(-600)})
    refreshed = await statuses.set_status(GUILD, MEMBER, {"is_banned": False})
    assert refreshed.updated_at > at(-600)
    with captured_sql(client.engine) as seen:
        await statuses.set_status(GUILD, MEMBER, {"is_poll_banned": True})
    upsert = queries(seen)[-1].upper()
    assert "ON CONFLICT" in upsert
    assignments = upsert.split("DO UPDATE")[1].split("RETURNING")[0]
    assert "IS_POLL_BANNED" in assignments
    assert "UPDATED_AT" in assignments
    assert "IS_BANNED" not in assignments


async def test_get_status_is_one_primary_key_read(
    client: DatabaseClient, statuses: MemberStatusRepository
) -> None:
    await statuses.set_status(GUILD, MEMBER, {"is_banned": True})
    with captured_sql(client.engine) as seen:
        status = await statuses.get_status(GUILD, MEMBER)
    assert status is not None
    assert status.is_banned is True
    [statement] = queries(seen)
    assert statement.upper().lstrip().startswith("SELECT")


async def test_set_status_joins_the_callers_transaction(
    client: DatabaseClient, statuses: MemberStatusRepository, transactions: TransactionManager
) -> None:
    async def set_then_fail() -> None:
        async with transactions.transaction():
            await statuses.set_status(GUILD, MEMBER, {"is_banned": True})
            status = await statuses.get_status(GUILD, MEMBER)
            assert status is not None
            assert status.is_banned
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError):
        await set_then_fail()
    counts = await row_counts(client)
    assert (counts["guild"], counts["member_status"]) == (0, 0)


async def test_concurrent_flags_do_not_overwrite_each_other(statuses: MemberStatusRepository) -> None:
    flags = ("is_banned", "is_jailed", "is_snippet_banned", "is_poll_banned")
    await asyncio.gather(*(statuses.set_status(GUILD, MEMBER, {flag: True}) for flag in flags * 3))
    status = await statuses.get_status(GUILD, MEMBER)
    assert status is not None
    assert all(getattr(status, flag) for flag in flags)


async def test_set_status_validates_before_sql(
    client: DatabaseClient, statuses: MemberStatusRepository
) -> None:
    bad: dict[str, dict[str, Any]] = {
        "empty": {},
        "flag as int": {"is_banned": 1},
        "flag as str": {"is_banned": "yes"},
        "flag None": {"is_jailed": None},
        "naive until": {"timed_out_until": NOW.replace(tzinfo=None)},
        "until as str": {"timed_out_until": "2024-05-01T12:00:00Z"},
        "key in data": {"member_id": MEMBER + 1, "is_banned": True},
        "updated_at in data": {"updated_at": NOW},
    }
    calls: dict[str, Call] = {
        label: partial(statuses.set_status, GUILD, MEMBER, data) for label, data in bad.items()
    }
    calls["member 2**64"] = lambda: statuses.set_status(GUILD, 2**64, {"is_banned": True})
    calls["guild str"] = lambda: statuses.set_status("31", MEMBER, {"is_banned": True})  # type: ignore[arg-type]
    calls["get member bool"] = lambda: statuses.get_status(GUILD, True)
    await assert_rejected_before_sql(client.engine, calls)
    await assert_rejected_before_sql(
        client.engine,
        {"unknown": lambda: statuses.set_status(GUILD, MEMBER, {"is_muted": True})},
        UnknownFieldError,
    )
    assert (await row_counts(client))["member_status"] == 0


async def test_non_positive_member_hits_the_check(
    client: DatabaseClient, statuses: MemberStatusRepository
) -> None:
    with pytest.raises(CheckViolationError) as caught:
        await statuses.set_status(GUILD, 0, {"is_banned": True})
    assert caught.value.constraint == "ck_member_status_member_id_positive"
    counts = await row_counts(client)
    assert (counts["guild"], counts["member_status"]) == (0, 0)
