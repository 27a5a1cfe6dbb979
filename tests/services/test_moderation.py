"""ModerationService on both backends: actions, numbering, atomicity, voiding, tempban expiry, checks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from tux.database.core.client import DatabaseClient
from tux.database.exceptions import ConflictError, NotFoundError, ValidationError
from tux.database.models import Case, CaseStatus, CaseType
from tux.database.repositories.audit_log import AuditLogRepository
from tux.database.repositories.cases import CaseRepository
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.member_status import MemberStatusRepository
from tux.database.services.moderation import ModerationService
from tux.database.transactions.patterns import TransactionManager

GUILD = 111_111_111_111_111_111
OTHER_GUILD = 222_222_222_222_222_222
USER = 333_333_333_333_333_333
MOD = 444_444_444_444_444_444
ROLES = [555_555_555_555_555_551, 555_555_555_555_555_552]
FIELDS = ("is_banned", "is_jailed", "is_snippet_banned", "is_poll_banned", "timed_out_until")


def in_days(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)


@dataclass
class Repos:
    cases: CaseRepository
    member_status: MemberStatusRepository
    audit_log: AuditLogRepository
    guilds: GuildRepository


@pytest.fixture
def repos(client: DatabaseClient) -> Repos:
    sessions = client.sessions
    return Repos(
        CaseRepository(sessions),
        MemberStatusRepository(sessions),
        AuditLogRepository(sessions),
        GuildRepository(sessions),
    )


def make_service(
    transactions: TransactionManager,
    repos: Repos,
    *,
    member_status: MemberStatusRepository | None = None,
    audit_log: AuditLogRepository | None = None,
) -> ModerationService:
    return ModerationService(
        transactions,
        cases=repos.cases,
        member_status=member_status or repos.member_status,
        audit_log=audit_log or repos.audit_log,
    )


@pytest.fixture
def moderation(transactions: TransactionManager, repos: Repos) -> ModerationService:
    return make_service(transactions, repos)


@contextmanager
def captured_sql(client: DatabaseClient) -> Iterator[list[str]]:
    """Collect the SQL statements sent while the block runs (transaction control excluded), both roads."""
    seen: list[str] = []
    with client.statements.recording() as records:
        try:
            yield seen
        finally:
            seen.extend(record.sql for record in records)


async def status_of(repos: Repos, guild_id: int = GUILD, user_id: int = USER) -> dict[str, object] | None:
    row = await repos.member_status.get_status(guild_id, user_id)
    return None if row is None else {name: getattr(row, name) for name in FIELDS}


DEFAULT_STATUS: dict[str, object] = dict.fromkeys(FIELDS, False) | {"timed_out_until": None}


# Every action: the case, the member status, the audit row.


@dataclass(frozen=True)
class Action:
    method: str
    case_type: CaseType
    changes: dict[str, object] = field(default_factory=dict)
    kwargs: dict[str, Any] = field(default_factory=dict)
    prior: str | None = None
    """An imposing action run first, so that a lifting action visibly flips the flag back."""


EXPIRY = in_days(3)
ACTIONS = [
    Action("ban_user", CaseType.BAN, {"is_banned": True}),
    Action("unban_user", CaseType.UNBAN, {"is_banned": False}, prior="ban_user"),
    Action("hackban_user", CaseType.HACKBAN, {"is_banned": True}),
    Action("tempban_user", CaseType.TEMPBAN, {"is_banned": True}, {"expires_at": EXPIRY}),
    Action("kick_user", CaseType.KICK),
    Action("warn_user", CaseType.WARN),
    Action("timeout_user", CaseType.TIMEOUT, {"timed_out_until": EXPIRY}, {"expires_at": EXPIRY}),
    Action("untimeout_user", CaseType.UNTIMEOUT, {"timed_out_until": None}, prior="timeout_user"),
    Action("jail_user", CaseType.JAIL, {"is_jailed": True}, {"role_ids": ROLES}),
    Action("unjail_user", CaseType.UNJAIL, {"is_jailed": False}, prior="jail_user"),
    Action("snippetban_user", CaseType.SNIPPETBAN, {"is_snippet_banned": True}),
    Action("snippetunban_user", CaseType.SNIPPETUNBAN, {"is_snippet_banned": False}, prior="snippetban_user"),
    Action("pollban_user", CaseType.POLLBAN, {"is_poll_banned": True}),
    Action("pollunban_user", CaseType.POLLUNBAN, {"is_poll_banned": False}, prior="pollban_user"),
]
PRIOR_KWARGS: dict[str, dict[str, Any]] = {
    "timeout_user": {"expires_at": EXPIRY},
    "jail_user": {"role_ids": ROLES},
}


async def run(moderation: ModerationService, method: str, **kwargs: Any) -> Case:
    result = await getattr(moderation, method)(GUILD, USER, f"{method} reason", MOD, **kwargs)
    case: Case = result[0] if isinstance(result, tuple) else result
    return case


@pytest.mark.parametrize("action", ACTIONS, ids=[a.method for a in ACTIONS])
async def test_action_records_case_status_and_audit(
    action: Action, moderation: ModerationService, repos: Repos
) -> None:
    if action.prior is not None:
        await run(moderation, action.prior, **PRIOR_KWARGS.get(action.prior, {}))
    before = await status_of(repos)

    case = await run(moderation, action.method, **action.kwargs)

    number = 2 if action.prior else 1
    stored = await repos.cases.find_by_guild_and_number(GUILD, number)
    assert stored is not None
    assert stored.id == case.id
    assert stored.case_type == action.case_type
    assert stored.case_status == CaseStatus.ACTIVE
    assert (stored.case_user_id, stored.case_moderator_id) == (USER, MOD)
    assert stored.case_reason == f"{action.method} reason"
    assert stored.case_expires_at == action.kwargs.get("expires_at")
    restored_roles = ROLES if action.case_type == CaseType.UNJAIL else []
    assert stored.case_user_roles == action.kwargs.get("role_ids", restored_roles)

    expected_status = (before or DEFAULT_STATUS) | action.changes
    assert await status_of(repos) == (expected_status if action.changes or before else None)

    guild = await repos.guilds.find_by_id(GUILD)
    assert guild is not None
    assert guild.case_count == number
    [entry, *_] = await repos.audit_log.page(GUILD)
    assert await repos.audit_log.count(guild_id=GUILD) == number
    assert entry.action == f"case.{action.case_type.value.lower()}"
    assert (entry.actor_id, entry.target_id, entry.case_id) == (MOD, USER, case.id)
    assert entry.details["case_number"] == number
    assert entry.details["case_type"] == action.case_type.value


async def test_case_numbers_count_up_per_guild(moderation: ModerationService, repos: Repos) -> None:
    await moderation.warn_user(GUILD, USER, "spam", MOD)
    await moderation.ban_user(OTHER_GUILD, USER, "raid", MOD)
    await moderation.kick_user(GUILD, USER + 1, "spam", MOD)
    await moderation.timeout_user(GUILD, USER, "spam", MOD, in_days(1))
    await moderation.unban_user(OTHER_GUILD, USER, "appeal", MOD)

    numbers = {
        guild_id: [c.case_number for c in await repos.cases.history(guild_id)]
        for guild_id in (GUILD, OTHER_GUILD)
    }
    assert numbers == {GUILD: [3, 2, 1], OTHER_GUILD: [2, 1]}
    counts = {g.id: g.case_count for g in await repos.guilds.find_all()}
    assert counts == {GUILD: 3, OTHER_GUILD: 2}


async def test_concurrent_bans_on_a_new_guild_get_dense_numbers(
    moderation: ModerationService, repos: Repos
) -> None:
    bans = await asyncio.gather(*(moderation.ban_user(GUILD, USER + i, "raid", MOD) for i in range(50)))

    assert sorted(c.case_number for c in bans) == list(range(1, 51))
    stored = await repos.cases.find_all(guild_id=GUILD)
    assert sorted(c.case_number for c in stored) == list(range(1, 51))
    guild = await repos.guilds.find_by_id(GUILD)
    assert guild is not None
    assert guild.case_count == 50
    assert await repos.audit_log.count(guild_id=GUILD, action="case.ban") == 50
    assert await repos.member_status.count(guild_id=GUILD, is_banned=True) == 50


async def test_jail_keeps_roles_and_unjail_returns_them(moderation: ModerationService) -> None:
    await moderation.jail_user(GUILD, USER, "first jail", MOD, [ROLES[0], ROLES[0]])
    _, first = await moderation.unjail_user(GUILD, USER, "served", MOD)
    _, again = await moderation.unjail_user(GUILD, USER, "nothing left to restore", MOD)
    await moderation.jail_user(GUILD, USER, "second jail", MOD, ROLES)
    unjail, second = await moderation.unjail_user(GUILD, USER, "served", MOD)

    assert (first, again, second) == ([ROLES[0]], [], ROLES)
    assert unjail.case_user_roles == ROLES


async def test_unjail_skips_a_voided_jail(moderation: ModerationService) -> None:
    await moderation.jail_user(GUILD, USER, "kept", MOD, [ROLES[0]])
    failed = await moderation.jail_user(GUILD, USER, "discord refused", MOD, ROLES)
    await moderation.void_case(GUILD, failed.case_number, "role edit failed", MOD)

    assert await moderation.is_jailed(GUILD, USER)
    _, roles = await moderation.unjail_user(GUILD, USER, "served", MOD)
    assert roles == [ROLES[0]]


# Validation happens before any SQL.

TOO_LONG = "x" * 2001
BAD_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("ban_user", (GUILD, USER, "", MOD), {}),
    ("ban_user", (GUILD, USER, "   ", MOD), {}),
    ("ban_user", (GUILD, USER, TOO_LONG, MOD), {}),
    ("ban_user", (GUILD, USER, "nul\x00", MOD), {}),
    ("ban_user", (0, USER, "spam", MOD), {}),
    ("ban_user", (GUILD, -1, "spam", MOD), {}),
    ("ban_user", (GUILD, USER, "spam", True), {}),
    ("ban_user", (GUILD, 2**63, "spam", MOD), {}),
    ("tempban_user", (GUILD, USER, "spam", MOD), {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}),
    ("tempban_user", (GUILD, USER, "spam", MOD), {"expires_at": datetime(2999, 1, 1)}),
    ("timeout_user", (GUILD, USER, "spam", MOD), {"expires_at": None}),
    ("jail_user", (GUILD, USER, "spam", MOD), {"role_ids": [0]}),
    ("jail_user", (GUILD, USER, "spam", MOD), {"role_ids": "123"}),
    ("jail_user", (GUILD, USER, "spam", MOD), {"role_ids": list(range(1, 252))}),
    ("void_case", (GUILD, 0, "spam", MOD), {}),
    ("void_case", (GUILD, 1, "", MOD), {}),
    ("process_expired_tempbans", (), {"limit": 0}),
    ("process_expired_tempbans", (), {"limit": 1001}),
    ("process_expired_tempbans", (), {"now": datetime(2020, 1, 1)}),
    ("is_jailed", (GUILD, 0), {}),
]


@pytest.mark.parametrize("call", BAD_CALLS)
async def test_bad_input_is_rejected_before_any_sql(
    call: tuple[str, tuple[Any, ...], dict[str, Any]],
    client: DatabaseClient,
    moderation: ModerationService,
    transactions: TransactionManager,
) -> None:
    method, args, kwargs = call
    with captured_sql(client) as seen, pytest.raises(ValidationError):
        await getattr(moderation, method)(*args, **kwargs)
    assert seen == []
    assert transactions.monitor.metrics["total_transactions"] == 0


# A failure after the case insert rolls back everything.


class InjectedError(RuntimeError):
    pass


class FailingMemberStatus(MemberStatusRepository):
    """The real repository, except that ``set_status`` fails after noting how many cases it can see."""

    def __init__(self, repos: Repos) -> None:
        super().__init__(repos.cases.sessions)
        self._cases = repos.cases
        self.cases_seen: list[int] = []

    async def set_status(self, guild_id: int, member_id: int, data: Any) -> Any:
        self.cases_seen.append(await self._cases.count(guild_id=guild_id))
        raise InjectedError


class FailingAuditLog(AuditLogRepository):
    """The real repository, except that ``append`` fails after noting the member's status."""

    def __init__(self, repos: Repos) -> None:
        super().__init__(repos.cases.sessions)
        self._status = repos.member_status
        self.banned_seen: list[bool] = []

    async def append(self, guild_id: int, actor_id: int, action: str, **kwargs: Any) -> Any:
        status = await self._status.get_status(guild_id, kwargs["target_id"])
        self.banned_seen.append(status is not None and status.is_banned)
        raise InjectedError


@pytest.mark.parametrize("failing", ["member_status", "audit_log"])
@pytest.mark.parametrize("guild_exists", [True, False], ids=["existing-guild", "new-guild"])
async def test_failure_after_case_insert_rolls_back_everything(
    failing: str, guild_exists: bool, transactions: TransactionManager, repos: Repos
) -> None:
    if guild_exists:
        await make_service(transactions, repos).jail_user(GUILD, USER, "earlier case", MOD, ROLES)
    status_before = await status_of(repos)
    member_status = FailingMemberStatus(repos) if failing == "member_status" else None
    audit_log = FailingAuditLog(repos) if failing == "audit_log" else None
    broken = make_service(transactions, repos, member_status=member_status, audit_log=audit_log)

    with pytest.raises(InjectedError):
        await broken.ban_user(GUILD, USER, "never recorded", MOD)

    existing = 1 if guild_exists else 0
    if member_status is not None:
        assert member_status.cases_seen == [existing + 1]  # the case was inserted before the failure
    if audit_log is not None:
        assert audit_log.banned_seen == [True]  # the status was written before the failure
    assert await repos.cases.count(guild_id=GUILD) == existing
    assert await status_of(repos) == status_before
    assert await repos.audit_log.count(guild_id=GUILD) == existing
    guild = await repos.guilds.find_by_id(GUILD)
    assert (guild.case_count if guild else None) == (1 if guild_exists else None)
    assert transactions.monitor.stats("moderation.ban").retried == 0


async def test_action_inside_an_outer_transaction_rolls_back_with_it(
    moderation: ModerationService, transactions: TransactionManager, repos: Repos
) -> None:
    seen_inside: list[bool] = []

    async def ban_then_fail() -> None:
        async with transactions.transaction():
            await moderation.ban_user(GUILD, USER, "spam", MOD)
            seen_inside.append(await moderation.is_banned(GUILD, USER))
            raise InjectedError

    with pytest.raises(InjectedError):
        await ban_then_fail()
    assert seen_inside == [True]
    assert await repos.guilds.find_by_id(GUILD) is None
    assert not await moderation.is_banned(GUILD, USER)


# Voiding.


async def test_void_restores_status_from_the_previous_active_case(
    moderation: ModerationService, repos: Repos
) -> None:
    await moderation.ban_user(GUILD, USER, "first", MOD)  # 1
    await moderation.unban_user(GUILD, USER, "appeal", MOD)  # 2
    await moderation.ban_user(GUILD, USER, "again", MOD)  # 3

    voided = await moderation.void_case(GUILD, 3, "discord ban failed", MOD + 1)
    assert not await moderation.is_banned(GUILD, USER)  # decided by the UNBAN (2)
    await moderation.void_case(GUILD, 2, "unban was a mistake", MOD)
    assert await moderation.is_banned(GUILD, USER)  # decided by the BAN (1)
    await moderation.void_case(GUILD, 1, "wrong user", MOD)
    assert not await moderation.is_banned(GUILD, USER)  # no active case left

    assert voided.case_status == CaseStatus.VOIDED
    assert voided.case_void_reason == "discord ban failed"
    stored = await repos.cases.find_by_guild_and_number(GUILD, 3)
    assert stored is not None
    assert (stored.case_status, stored.case_void_reason) == (CaseStatus.VOIDED, "discord ban failed")
    assert stored.case_voided_at is not None
    [entry, *_] = await repos.audit_log.page(GUILD)
    assert await repos.audit_log.count(guild_id=GUILD, action="case.void") == 3
    assert entry.details["case_number"] == 1
    assert entry.details["restored"] == {"is_banned": False}


async def test_void_restores_the_previous_timeout(moderation: ModerationService, repos: Repos) -> None:
    first, second = in_days(1), in_days(2)
    await moderation.timeout_user(GUILD, USER, "spam", MOD, first)
    await moderation.jail_user(GUILD, USER, "spam", MOD, ROLES)
    await moderation.timeout_user(GUILD, USER, "more spam", MOD, second)

    await moderation.void_case(GUILD, 3, "timeout failed", MOD)
    assert await moderation.timed_out_until(GUILD, USER) == first
    await moderation.void_case(GUILD, 1, "mistake", MOD)
    assert await moderation.timed_out_until(GUILD, USER) is None
    assert await moderation.is_jailed(GUILD, USER)  # other columns are left alone


async def test_void_of_a_kick_changes_no_status(moderation: ModerationService, repos: Repos) -> None:
    await moderation.kick_user(GUILD, USER, "spam", MOD)
    voided = await moderation.void_case(GUILD, 1, "kick failed", MOD)
    assert voided.case_status == CaseStatus.VOIDED
    assert await status_of(repos) is None


async def test_void_twice_conflicts_and_missing_case_is_not_found(
    moderation: ModerationService, repos: Repos
) -> None:
    await moderation.ban_user(GUILD, USER, "spam", MOD)
    await moderation.void_case(GUILD, 1, "failed", MOD)

    with pytest.raises(ConflictError, match="already void"):
        await moderation.void_case(GUILD, 1, "again", MOD)
    with pytest.raises(NotFoundError):
        await moderation.void_case(GUILD, 2, "no such case", MOD)
    with pytest.raises(NotFoundError):
        await moderation.void_case(OTHER_GUILD, 1, "no such guild", MOD)
    assert await repos.audit_log.count(guild_id=GUILD, action="case.void") == 1


async def test_concurrent_voids_of_one_case_let_exactly_one_win(
    moderation: ModerationService, repos: Repos
) -> None:
    await moderation.ban_user(GUILD, USER, "spam", MOD)
    results = await asyncio.gather(
        *(moderation.void_case(GUILD, 1, f"void {i}", MOD) for i in range(5)), return_exceptions=True
    )
    assert sum(isinstance(r, Case) for r in results) == 1
    assert sum(isinstance(r, ConflictError) for r in results) == 4
    assert not await moderation.is_banned(GUILD, USER)
    assert await repos.audit_log.count(guild_id=GUILD, action="case.void") == 1


class PausingAuditLog(AuditLogRepository):
    """The real repository, except that ``append`` waits for a go signal (the action's locks held)."""

    def __init__(self, repos: Repos) -> None:
        super().__init__(repos.cases.sessions)
        self.reached = asyncio.Event()
        self.release = asyncio.Event()

    async def append(self, guild_id: int, actor_id: int, action: str, **kwargs: Any) -> Any:
        self.reached.set()
        await self.release.wait()
        return await super().append(guild_id, actor_id, action, **kwargs)


async def wait_until_a_backend_waits_for_a_lock(client: DatabaseClient) -> None:
    """Poll pg_stat_activity until some session of this database is blocked on a lock."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    async with asyncio.timeout(30):
        while True:
            async with client.engine.connect() as connection:
                if await connection.scalar(query):
                    return
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_void_racing_a_new_action_keeps_the_newest_cases_status(
    client: DatabaseClient, transactions: TransactionManager, repos: Repos, moderation: ModerationService
) -> None:
    await moderation.ban_user(GUILD, USER, "first", MOD)  # 1
    await moderation.ban_user(GUILD, USER, "second", MOD)  # 2
    paused = PausingAuditLog(repos)
    unban = asyncio.create_task(
        make_service(transactions, repos, audit_log=paused).unban_user(GUILD, USER, "appeal", MOD)  # 3
    )
    await paused.reached.wait()  # case 3 inserted and is_banned=False written, not committed

    void = asyncio.create_task(moderation.void_case(GUILD, 2, "discord ban failed", MOD))
    await wait_until_a_backend_waits_for_a_lock(client)  # the void waits for the unban's locks
    paused.release.set()
    await asyncio.gather(unban, void)

    # Computed before the unban committed, the void would have restored case 1's ban.
    assert not await moderation.is_banned(GUILD, USER)


# Tempban expiry.


async def test_expired_tempbans_are_lifted_once(moderation: ModerationService, repos: Repos) -> None:
    soon, later = in_days(1), in_days(10)
    for i in range(3):
        await moderation.tempban_user(GUILD, USER + i, "spam", MOD, soon)
    await moderation.tempban_user(GUILD, USER + 9, "not due yet", MOD, later)

    lifted = await moderation.process_expired_tempbans(now=in_days(2), limit=2)
    lifted += await moderation.process_expired_tempbans(now=in_days(2), limit=2)
    assert await moderation.process_expired_tempbans(now=in_days(2)) == []

    assert sorted(c.case_user_id for c in lifted) == [USER, USER + 1, USER + 2]
    assert all(c.case_processed for c in lifted)
    for i in range(3):
        assert not await moderation.is_banned(GUILD, USER + i)
    assert await moderation.is_banned(GUILD, USER + 9)
    entries = await repos.audit_log.find_all(action="case.tempban_expired")
    assert sorted(e.case_id or 0 for e in entries) == sorted(c.id for c in lifted)
    assert all(e.details["lifted"] for e in entries)


async def test_expiry_does_not_lift_a_superseded_or_voided_tempban(
    moderation: ModerationService, repos: Repos
) -> None:
    soon = in_days(1)
    await moderation.tempban_user(GUILD, USER, "spam", MOD, soon)  # 1
    await moderation.ban_user(GUILD, USER, "now permanent", MOD)  # 2
    await moderation.tempban_user(GUILD, USER + 1, "spam", MOD, soon)  # 3
    await moderation.void_case(GUILD, 3, "discord ban failed", MOD)
    await moderation.tempban_user(GUILD, USER + 2, "spam", MOD, soon)  # 4
    await moderation.tempban_user(GUILD, USER + 2, "longer", MOD, in_days(1.5))  # 5

    lifted = await moderation.process_expired_tempbans(now=in_days(2))

    assert [c.case_number for c in lifted] == [5]
    assert await moderation.is_banned(GUILD, USER)
    assert not await moderation.is_banned(GUILD, USER + 1)
    assert not await moderation.is_banned(GUILD, USER + 2)
    processed = await repos.cases.find_all(guild_id=GUILD, case_type=CaseType.TEMPBAN, case_processed=True)
    assert sorted(c.case_number for c in processed) == [1, 3, 4, 5]
    entries = await repos.audit_log.find_all(action="case.tempban_expired")
    assert sorted((e.details["case_number"], e.details["lifted"]) for e in entries) == [
        (1, False),
        (3, False),
        (4, False),
        (5, True),
    ]


async def test_concurrent_expiry_loops_lift_each_tempban_once(
    moderation: ModerationService, repos: Repos
) -> None:
    for i in range(30):
        await moderation.tempban_user(GUILD, USER + i, "spam", MOD, in_days(1))

    async def drain() -> list[int]:
        claimed: list[int] = []
        while batch := await moderation.process_expired_tempbans(now=in_days(2), limit=4):
            claimed += [c.id for c in batch]
        return claimed

    first, second = await asyncio.gather(drain(), drain())
    every = first + second
    assert len(every) == len(set(every)) == 30
    assert await repos.audit_log.count(action="case.tempban_expired") == 30
    assert await repos.member_status.count(guild_id=GUILD, is_banned=True) == 0


# Restriction checks.


async def test_restriction_checks_follow_actions_and_reversals(moderation: ModerationService) -> None:
    checks = {
        "ban": moderation.is_banned,
        "jail": moderation.is_jailed,
        "snippetban": moderation.is_snippet_banned,
        "pollban": moderation.is_poll_banned,
    }
    reversals = {"ban": "unban", "jail": "unjail", "snippetban": "snippetunban", "pollban": "pollunban"}
    assert [await check(GUILD, USER) for check in checks.values()] == [False] * 4

    for name, check in checks.items():
        await run(moderation, f"{name}_user", **({"role_ids": ROLES} if name == "jail" else {}))
        assert await check(GUILD, USER), name
        assert not await check(OTHER_GUILD, USER)
        assert not await check(GUILD, USER + 1)
    assert [await check(GUILD, USER) for check in checks.values()] == [True] * 4

    for name, check in checks.items():
        await run(moderation, f"{reversals[name]}_user")
        assert not await check(GUILD, USER), reversals[name]
    assert [await check(GUILD, USER) for check in checks.values()] == [False] * 4

    until = in_days(1)
    assert await moderation.timed_out_until(GUILD, USER) is None
    await moderation.timeout_user(GUILD, USER, "spam", MOD, until)
    assert await moderation.timed_out_until(GUILD, USER) == until
    await moderation.untimeout_user(GUILD, USER, "calm", MOD)
    assert await moderation.timed_out_until(GUILD, USER) is None


async def test_restriction_check_is_one_primary_key_read(
    client: DatabaseClient, moderation: ModerationService
) -> None:
    await moderation.jail_user(GUILD, USER, "spam", MOD, ROLES)
    with captured_sql(client) as seen:
        assert await moderation.is_jailed(GUILD, USER)
    [statement] = seen
    assert "FROM member_status" in statement
    assert "WHERE member_status.guild_id = " in statement
    assert "AND member_status.member_id = " in statement
