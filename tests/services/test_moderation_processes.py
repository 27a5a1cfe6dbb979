"""ModerationService across two OS processes on PostgreSQL: case numbering and tempban expiry.

Each worker (``_moderation_worker.py``) has its own engine and pool, exactly like two bot processes
sharing one database. Both are started, both report ``ready`` after connecting, and only then do they
get the go signal, so their work overlaps instead of running one after the other.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from loguru import logger

from tux.database.core.client import DatabaseClient
from tux.database.models import CaseType
from tux.database.repositories.audit_log import AuditLogRepository
from tux.database.repositories.cases import CaseRepository
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.member_status import MemberStatusRepository
from tux.database.services.moderation import ModerationService
from tux.database.transactions.patterns import TransactionManager

WORKER = Path(__file__).with_name("_moderation_worker.py")
GUILD = 111_111_111_111_111_111
USER = 333_333_333_333_333_333
MOD = 444_444_444_444_444_444

pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.slow,
    pytest.mark.parametrize("backend", ["postgresql"], indirect=True),
]


async def run_workers(*argvs: list[str]) -> list[dict[str, Any]]:
    """Start one worker per argv, release them together once all are connected, return their output."""
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER),
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for argv in argvs
    ]
    try:
        async with asyncio.timeout(120):
            for process in processes:
                assert process.stdout is not None
                line = await process.stdout.readline()
                if line != b"ready\n":
                    _, error = await process.communicate()
                    pytest.fail(f"worker did not start: {(line + error).decode()}")
            for process in processes:
                assert process.stdin is not None
                process.stdin.write(b"go\n")
            outputs = await asyncio.gather(*(process.communicate() for process in processes))
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    for process, (_, error) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, error.decode()
    return [json.loads(out) for out, _ in outputs]


def assert_overlapping(results: list[dict[str, Any]]) -> None:
    """The workers' spans of work intersect, so the test exercised real cross-process concurrency."""
    assert max(r["started"] for r in results) < min(r["finished"] for r in results)


async def test_two_processes_ban_200_members_of_a_new_guild(
    database_url: str, client: DatabaseClient
) -> None:
    results = await run_workers(
        ["ban", database_url, str(GUILD), str(USER), "100"],
        ["ban", database_url, str(GUILD), str(USER + 100), "100"],
    )

    assert_overlapping(results)
    spans = [r["finished"] - r["started"] for r in results]
    total = max(r["finished"] for r in results) - min(r["started"] for r in results)
    logger.info("200 bans from two processes: {:.3f}s overall, per worker {}", total, spans)
    print(f"200 bans: {total:.3f}s overall; worker spans {[round(s, 3) for s in spans]}")
    reported = sorted(n for r in results for n in r["case_numbers"])
    assert reported == list(range(1, 201))
    sessions = client.sessions
    stored = await CaseRepository(sessions).find_all(guild_id=GUILD)
    assert sorted(c.case_number for c in stored) == list(range(1, 201))
    assert {c.case_type for c in stored} == {CaseType.BAN}
    guild = await GuildRepository(sessions).find_by_id(GUILD)
    assert guild is not None
    assert guild.case_count == 200
    audit = await AuditLogRepository(sessions).find_all(guild_id=GUILD, action="case.ban")
    assert sorted(e.case_id or 0 for e in audit) == sorted(c.id for c in stored)
    assert await MemberStatusRepository(sessions).count(guild_id=GUILD, is_banned=True) == 200


async def test_two_processes_expire_each_tempban_once(
    database_url: str, client: DatabaseClient, transactions: TransactionManager
) -> None:
    sessions = client.sessions
    cases = CaseRepository(sessions)
    moderation = ModerationService(
        transactions,
        cases=cases,
        member_status=MemberStatusRepository(sessions),
        audit_log=AuditLogRepository(sessions),
    )
    now = datetime.now(UTC)
    expiring = await asyncio.gather(
        *(
            moderation.tempban_user(GUILD + i % 3, USER + i, "spam", MOD, now + timedelta(hours=1))
            for i in range(100)
        )
    )
    not_due = await moderation.tempban_user(GUILD, USER + 999, "long", MOD, now + timedelta(days=30))
    due = (now + timedelta(hours=2)).isoformat()

    results = await run_workers(["expire", database_url, due, "7"], ["expire", database_url, due, "7"])

    claimed = [case_id for r in results for case_id in r["claimed"]]
    print(f"claims per worker: {[len(r['claimed']) for r in results]}")
    assert sorted(claimed) == sorted(c.id for c in expiring)  # each once: no duplicate, none missing
    assert_overlapping(results)
    processed = await cases.find_all(case_type=CaseType.TEMPBAN, case_processed=True)
    assert sorted(c.id for c in processed) == sorted(c.id for c in expiring)
    assert await moderation.is_banned(GUILD, not_due.case_user_id)
    audit = await AuditLogRepository(sessions).find_all(action="case.tempban_expired")
    assert sorted(e.case_id or 0 for e in audit) == sorted(claimed)
    assert await MemberStatusRepository(sessions).count(is_banned=True) == 1
