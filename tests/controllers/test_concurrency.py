"""Legacy writes stay atomic under many concurrent callers (the repositories' atomic statements)."""

from __future__ import annotations

import asyncio

import pytest

from tests.controllers.conftest import CHANNEL, GUILD, MOD, USER, in_days
from tux.database.controllers import DatabaseController
from tux.database.models import CaseType

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CALLS = 40


async def test_concurrent_legacy_writes_lose_nothing(legacy: DatabaseController) -> None:
    snippet = await legacy.snippet.create_snippet("s", "content", in_days(0), USER, GUILD)
    await legacy.starboard_message.create_or_update_starboard_message(
        1, "m", in_days(1), CHANNEL, USER, GUILD, 0, 2
    )
    await asyncio.gather(
        *(legacy.levels.add_xp(USER, GUILD, 1.0) for _ in range(CALLS)),
        *(legacy.snippet.increment_snippet_uses(snippet.snippet_id) for _ in range(CALLS)),
        *(legacy.starboard_message.increment_star_count(1, GUILD) for _ in range(CALLS)),
        *(legacy.case.insert_case(GUILD, USER + n, MOD, CaseType.WARN, "w") for n in range(CALLS)),
    )
    assert await legacy.levels.get_xp(USER, GUILD) == CALLS
    used = await legacy.snippet.get_snippet_by_id(snippet.snippet_id)
    assert used is not None
    assert used.uses == CALLS
    starred = await legacy.starboard_message.get_starboard_message(1, GUILD)
    assert starred is not None
    assert starred.star_count == CALLS
    numbers = sorted(case.case_number for case in await legacy.case.get_all_cases(GUILD))
    assert numbers == list(range(1, CALLS + 1))
