"""CaseRepository on both backends: numbering, type-pair lookups, tempban claims, history, voiding."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from typing import Any

import pytest

from tests.repositories import NOW, Call, assert_rejected_before_sql, at, captured_sql, queries
from tux.database.core.client import DatabaseClient
from tux.database.models import Case, CaseStatus, CaseType
from tux.database.repositories.cases import CaseRepository
from tux.database.repositories.guild import GuildRepository
from tux.database.settings import DatabaseSettings
from tux.database.transactions.patterns import TransactionManager

GUILD = 111
OTHER_GUILD = 222
USER = 5001
MOD = 9001


@pytest.fixture
def cases(client: DatabaseClient) -> CaseRepository:
    return CaseRepository(client.sessions)


async def open_case(
    cases: CaseRepository,
    transactions: TransactionManager,
    case_type: CaseType,
    *,
    guild_id: int = GUILD,
    user_id: int = USER,
    **extra: Any,
) -> Case:
    """Allocate a number and insert the case in one transaction, as the moderation service does."""
    async with transactions.transaction():
        number = await cases.get_next_case_number(guild_id)
        return await cases.create(
            {
                "guild_id": guild_id,
                "case_number": number,
                "case_type": case_type,
                "case_reason": f"{case_type} #{number}",
                "case_moderator_id": MOD,
                "case_user_id": user_id,
                **extra,
            }
        )


async def test_next_case_number_creates_guild_and_counts_up(
    client: DatabaseClient, cases: CaseRepository
) -> None:
    assert [await cases.get_next_case_number(GUILD) for _ in range(3)] == [1, 2, 3]
    assert await cases.get_next_case_number(OTHER_GUILD) == 1
    guild = await GuildRepository(client.sessions).find_by_id(GUILD)
    assert guild is not None
    assert guild.case_count == 3


async def test_next_case_number_is_one_statement(client: DatabaseClient, cases: CaseRepository) -> None:
    with captured_sql(client.engine) as seen:
        await cases.get_next_case_number(GUILD)
    [statement] = queries(seen)
    assert "ON CONFLICT" in statement.upper()
    assert "RETURNING" in statement.upper()


async def test_rolled_back_case_leaves_no_gap(
    cases: CaseRepository, transactions: TransactionManager
) -> None:
    await open_case(cases, transactions, CaseType.WARN)

    async def allocate_then_fail() -> None:
        async with transactions.transaction():
            assert await cases.get_next_case_number(GUILD) == 2
            raise RuntimeError("moderation action failed")

    with pytest.raises(RuntimeError):
        await allocate_then_fail()
    second = await open_case(cases, transactions, CaseType.BAN)
    assert second.case_number == 2


async def test_concurrent_case_numbers_are_dense(backend: str, database_url: str) -> None:
    tasks = 200 if backend == "postgresql" else 25
    client = DatabaseClient(DatabaseSettings(database_url=database_url, pool_timeout=120))
    await client.connect()
    try:
        cases = CaseRepository(client.sessions)
        transactions = TransactionManager(client.sessions)

        async def allocate() -> int:
            async with transactions.transaction():
                return await cases.get_next_case_number(GUILD)

        numbers = await asyncio.gather(*(allocate() for _ in range(tasks)))
    finally:
        await client.close()
    assert sorted(numbers) == list(range(1, tasks + 1))


async def test_find_by_guild_and_number(cases: CaseRepository, transactions: TransactionManager) -> None:
    created = await open_case(cases, transactions, CaseType.KICK)
    await open_case(cases, transactions, CaseType.KICK, guild_id=OTHER_GUILD)
    found = await cases.find_by_guild_and_number(GUILD, 1)
    assert found is not None
    assert (found.id, found.case_type, found.case_status) == (created.id, CaseType.KICK, CaseStatus.ACTIVE)
    assert found.case_created_at.tzinfo is not None
    assert await cases.find_by_guild_and_number(GUILD, 2) is None
    assert await cases.find_by_guild_and_number(333, 1) is None


async def test_find_by_user_and_type_newest_first(
    cases: CaseRepository, transactions: TransactionManager
) -> None:
    for case_type in (CaseType.WARN, CaseType.BAN, CaseType.WARN, CaseType.KICK, CaseType.WARN):
        await open_case(cases, transactions, case_type)
    await open_case(cases, transactions, CaseType.WARN, user_id=USER + 1)
    await open_case(cases, transactions, CaseType.WARN, guild_id=OTHER_GUILD)
    warns = await cases.find_by_user_and_type(GUILD, USER, [CaseType.WARN])
    assert [c.case_number for c in warns] == [5, 3, 1]
    mixed = await cases.find_by_user_and_type(GUILD, USER, (CaseType.BAN, CaseType.KICK))
    assert [(c.case_number, c.case_type) for c in mixed] == [(4, CaseType.KICK), (2, CaseType.BAN)]
    assert await cases.find_by_user_and_type(GUILD, USER, []) == []
    by_name = await cases.find_by_user_and_type(GUILD, USER, ["BAN"])  # type: ignore[list-item]
    assert [c.case_number for c in by_name] == [2]


async def test_case_types_are_validated_before_sql(client: DatabaseClient, cases: CaseRepository) -> None:
    bad_values: list[Any] = ["BAN", ["NOT_A_TYPE"], [None], 7, {"BAN": 1}]
    calls: dict[str, Call] = {}
    for bad in bad_values:
        calls[f"find_by_user_and_type {bad!r}"] = partial(cases.find_by_user_and_type, GUILD, USER, bad)
        calls[f"latest_of_types {bad!r}"] = partial(cases.latest_of_types, GUILD, USER, bad)
    await assert_rejected_before_sql(client.engine, calls)


async def test_latest_of_types_looks_only_at_the_pair(
    cases: CaseRepository, transactions: TransactionManager
) -> None:
    jail_pair = (CaseType.JAIL, CaseType.UNJAIL)
    assert await cases.latest_of_types(GUILD, USER, jail_pair) is None
    await open_case(cases, transactions, CaseType.JAIL)
    await open_case(cases, transactions, CaseType.WARN)
    latest = await cases.latest_of_types(GUILD, USER, jail_pair)
    assert latest is not None
    assert (latest.case_number, latest.case_type) == (1, CaseType.JAIL)
    await open_case(cases, transactions, CaseType.UNJAIL)
    await open_case(cases, transactions, CaseType.SNIPPETBAN)
    latest = await cases.latest_of_types(GUILD, USER, jail_pair)
    assert latest is not None
    assert (latest.case_number, latest.case_type) == (3, CaseType.UNJAIL)
    assert await cases.latest_of_types(GUILD, USER + 1, jail_pair) is None
    assert await cases.latest_of_types(GUILD, USER, []) is None


async def _tempbans(cases: CaseRepository, transactions: TransactionManager) -> dict[str, Case]:
    return {
        "due_late": await open_case(cases, transactions, CaseType.TEMPBAN, case_expires_at=at(-5)),
        "future": await open_case(cases, transactions, CaseType.TEMPBAN, case_expires_at=at(+5)),
        "due_early": await open_case(cases, transactions, CaseType.TEMPBAN, case_expires_at=at(-60)),
        "done": await open_case(
            cases, transactions, CaseType.TEMPBAN, case_expires_at=at(-30), case_processed=True
        ),
        "ban": await open_case(cases, transactions, CaseType.BAN, case_expires_at=at(-30)),
        "other_guild": await open_case(
            cases, transactions, CaseType.TEMPBAN, guild_id=OTHER_GUILD, case_expires_at=at(-1)
        ),
        "exact": await open_case(cases, transactions, CaseType.TEMPBAN, case_expires_at=NOW),
    }


async def test_claim_expired_tempbans(cases: CaseRepository, transactions: TransactionManager) -> None:
    made = await _tempbans(cases, transactions)
    claimed = await cases.claim_expired_tempbans(NOW)
    expected = [made[k].id for k in ("due_early", "due_late", "other_guild", "exact")]
    assert [c.id for c in claimed] == expected
    assert all(c.case_processed for c in claimed)
    assert await cases.claim_expired_tempbans(NOW) == []
    stored = await cases.find_by_id(made["due_late"].id)
    assert stored is not None
    assert stored.case_processed is True
    untouched = await cases.find_by_id(made["future"].id)
    assert untouched is not None
    assert untouched.case_processed is False
    later = await cases.claim_expired_tempbans(at(+10))
    assert [c.id for c in later] == [made["future"].id]


async def test_claim_expired_tempbans_respects_limit(
    cases: CaseRepository, transactions: TransactionManager
) -> None:
    made = await _tempbans(cases, transactions)
    first = await cases.claim_expired_tempbans(NOW, limit=2)
    assert [c.id for c in first] == [made["due_early"].id, made["due_late"].id]
    rest = await cases.claim_expired_tempbans(NOW, limit=10)
    assert [c.id for c in rest] == [made["other_guild"].id, made["exact"].id]


async def test_concurrent_claims_hand_out_each_case_once(
    cases: CaseRepository, transactions: TransactionManager
) -> None:
    created = [
        await open_case(cases, transactions, CaseType.TEMPBAN, case_expires_at=at(-i - 1)) for i in range(30)
    ]
    batches = await asyncio.gather(*(cases.claim_expired_tempbans(NOW, limit=4) for _ in range(12)))
    claimed = [case.id for batch in batches for case in batch]
    assert sorted(claimed) == sorted(c.id for c in created)
    assert all(len(batch) <= 4 for batch in batches)


async def test_claim_validates_before_sql(client: DatabaseClient, cases: CaseRepository) -> None:
    bad_now: list[Any] = [datetime(2024, 1, 1), "2024-01-01", None, 1714560000]  # naive on purpose
    bad_limits: list[Any] = [0, -1, True, "10", 10_000, 1.5]
    calls: dict[str, Call] = {f"now={bad!r}": partial(cases.claim_expired_tempbans, bad) for bad in bad_now}
    calls |= {f"limit={bad!r}": partial(cases.claim_expired_tempbans, NOW, limit=bad) for bad in bad_limits}
    await assert_rejected_before_sql(client.engine, calls)


async def test_count_by_type(cases: CaseRepository, transactions: TransactionManager) -> None:
    for case_type in (CaseType.WARN, CaseType.WARN, CaseType.BAN, CaseType.JAIL, CaseType.WARN):
        await open_case(cases, transactions, case_type)
    await open_case(cases, transactions, CaseType.KICK, guild_id=OTHER_GUILD)
    counts = await cases.count_by_type(GUILD)
    assert counts[CaseType.WARN] == 3
    assert counts[CaseType.BAN] == 1
    assert counts[CaseType.JAIL] == 1
    assert counts[CaseType.KICK] == 0
    assert set(counts) == set(CaseType)
    assert sum((await cases.count_by_type(333)).values()) == 0


async def test_history_keyset_pages(cases: CaseRepository, transactions: TransactionManager) -> None:
    for i in range(7):
        await open_case(cases, transactions, CaseType.WARN, user_id=USER if i % 2 == 0 else USER + 1)
    await open_case(cases, transactions, CaseType.WARN, guild_id=OTHER_GUILD)
    pages: list[list[int]] = []
    before: int | None = None
    while True:
        page = await cases.history(GUILD, before_case_number=before, limit=3)
        if not page:
            break
        pages.append([c.case_number for c in page])
        before = page[-1].case_number
    assert pages == [[7, 6, 5], [4, 3, 2], [1]]
    mine = await cases.history(GUILD, user_id=USER, limit=2)
    assert [c.case_number for c in mine] == [7, 5]
    more = await cases.history(GUILD, user_id=USER, before_case_number=5, limit=20)
    assert [c.case_number for c in more] == [3, 1]


async def test_void(cases: CaseRepository, transactions: TransactionManager) -> None:
    await open_case(cases, transactions, CaseType.WARN)
    voided = await cases.void(GUILD, 1, "issued by mistake", at(1))
    assert voided is not None
    assert (voided.case_status, voided.case_void_reason, voided.case_voided_at) == (
        CaseStatus.VOIDED,
        "issued by mistake",
        at(1),
    )
    assert await cases.void(GUILD, 1, "again", at(2)) is None
    assert await cases.void(GUILD, 2, "missing", at(2)) is None
    stored = await cases.find_by_guild_and_number(GUILD, 1)
    assert stored is not None
    assert (stored.case_status, stored.case_void_reason) == (CaseStatus.VOIDED, "issued by mistake")


async def test_void_inside_transaction_refreshes_loaded_case(
    cases: CaseRepository, transactions: TransactionManager
) -> None:
    await open_case(cases, transactions, CaseType.WARN)
    async with transactions.transaction():
        loaded = await cases.find_by_guild_and_number(GUILD, 1)
        assert loaded is not None
        await cases.void(GUILD, 1, "duplicate", at(1))
        assert loaded.case_status is CaseStatus.VOIDED


async def test_void_validates_before_sql(
    client: DatabaseClient, cases: CaseRepository, transactions: TransactionManager
) -> None:
    await open_case(cases, transactions, CaseType.WARN)
    naive = datetime(2024, 1, 1)  # naive on purpose
    bad: list[tuple[Any, Any]] = [
        ("x" * 2001, NOW),
        ("bad\x00reason", NOW),
        (None, NOW),
        ("ok", naive),
        ("ok", None),
    ]
    calls: dict[str, Call] = {f"{r!r:.20} {v!r}": partial(cases.void, GUILD, 1, r, v) for r, v in bad}
    await assert_rejected_before_sql(client.engine, calls)
    stored = await cases.find_by_guild_and_number(GUILD, 1)
    assert stored is not None
    assert stored.case_status is CaseStatus.ACTIVE
    assert await cases.void(GUILD, 1, "x" * 2000, NOW) is not None


async def test_scalar_arguments_validated_before_sql(client: DatabaseClient, cases: CaseRepository) -> None:
    calls: dict[str, Call] = {
        "next number 2**64": lambda: cases.get_next_case_number(2**64),
        "next number str": lambda: cases.get_next_case_number("111"),  # type: ignore[arg-type]
        "next number bool": lambda: cases.get_next_case_number(True),
        "number str": lambda: cases.find_by_guild_and_number(GUILD, "1"),  # type: ignore[arg-type]
        "history limit 0": lambda: cases.history(GUILD, limit=0),
        "history user float": lambda: cases.history(GUILD, user_id=1.0),  # type: ignore[arg-type]
        "history before 2**63": lambda: cases.history(GUILD, before_case_number=2**63),
        "count None": lambda: cases.count_by_type(None),  # type: ignore[arg-type]
    }
    await assert_rejected_before_sql(client.engine, calls)
