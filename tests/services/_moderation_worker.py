"""A separate bot process for the multi-process moderation tests.

Usage::

    python _moderation_worker.py ban <url> <guild_id> <first_user_id> <count>
    python _moderation_worker.py expire <url> <now_iso> <batch>

The worker connects with its own ``Database``, prints ``ready``, waits for a line on stdin (the go
signal, so that both workers of a test really run at the same time) and then either issues ``count``
concurrent bans or drains the due tempbans in batches. It prints one JSON object with the result and
the wall-clock span of the work.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from loguru import logger

from tux.database import Database
from tux.database.services.moderation import ModerationService

Job = Callable[[], Awaitable[dict[str, Any]]]


def ban_job(service: ModerationService, guild_id: str, first_user_id: str, count: str) -> Job:
    async def run() -> dict[str, Any]:
        guild, first = int(guild_id), int(first_user_id)
        cases = await asyncio.gather(
            *(service.ban_user(guild, first + i, "raid", 1) for i in range(int(count)))
        )
        return {"case_numbers": [case.case_number for case in cases]}

    return run


def expire_job(service: ModerationService, now_iso: str, batch: str) -> Job:
    async def run() -> dict[str, Any]:
        now, claimed, calls = datetime.fromisoformat(now_iso), list[int](), 0
        while True:
            calls += 1
            lifted = await service.process_expired_tempbans(now=now, limit=int(batch))
            if not lifted:
                return {"claimed": claimed, "calls": calls}
            claimed += [case.id for case in lifted]

    return run


JOBS: dict[str, Callable[..., Job]] = {"ban": ban_job, "expire": expire_job}


async def main(mode: str, url: str, *args: str) -> None:
    # A hundred calls queue for a pool of twenty while the bans serialize on the guild row: allow for it.
    async with Database(url, cache_enabled=False, pool_timeout=120) as db:
        service = ModerationService(
            db.transactions, cases=db.cases, member_status=db.member_status, audit_log=db.audit_log
        )
        job = JOBS[mode](service, *args)
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)
        started = time.time()
        result = await job()
        result.update(started=started, finished=time.time())
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    asyncio.run(main(*sys.argv[1:]))
