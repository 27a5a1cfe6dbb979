"""``db.controller.case``: Tux's ``CaseController`` methods over ``db.cases`` and ``db.moderation``."""

from __future__ import annotations

import pytest

from tests.controllers.conftest import GUILD, MOD, OTHER_GUILD, OTHER_USER, USER, in_days
from tux.database import Database
from tux.database.controllers import DatabaseController
from tux.database.exceptions import UnknownFieldError, ValidationError
from tux.database.models import CaseStatus, CaseType

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def ban(legacy: DatabaseController, user: int = USER, guild: int = GUILD) -> int:
    case = await legacy.case.insert_case(guild, user, MOD, CaseType.BAN, "spam")
    return case.case_number


async def test_get_next_case_number(legacy: DatabaseController) -> None:
    assert await legacy.case.get_next_case_number(GUILD) == 1
    assert await legacy.case.get_next_case_number(GUILD) == 2


async def test_insert_case_numbers_records_status_and_audits(
    legacy: DatabaseController, cached_db: Database
) -> None:
    first = await legacy.case.insert_case(GUILD, USER, MOD, CaseType.JAIL, "rude", [7, 8])
    second = await legacy.case.insert_case(GUILD, USER, MOD, "UNJAIL", "ok")
    tempban = await legacy.case.insert_case(GUILD, OTHER_USER, MOD, CaseType.TEMPBAN, "x", None, in_days(1))
    assert (first.case_number, second.case_number, tempban.case_number) == (1, 2, 3)
    assert second.case_user_roles == [7, 8]
    assert not await cached_db.moderation.is_jailed(GUILD, USER)
    assert await cached_db.moderation.is_banned(GUILD, OTHER_USER)
    audit = await cached_db.audit_log.page(GUILD)
    assert sorted(entry.action for entry in audit) == ["case.jail", "case.tempban", "case.unjail"]


async def test_insert_case_marks_a_tempban_expired_and_refuses_bad_input(legacy: DatabaseController) -> None:
    case = await legacy.case.insert_case(GUILD, USER, MOD, CaseType.TEMPBAN, "x", None, in_days(1), True)
    assert case.case_processed
    with pytest.raises(ValidationError):
        await legacy.case.insert_case(GUILD, USER, MOD, CaseType.TIMEOUT, "no expiry")
    with pytest.raises(ValidationError):
        await legacy.case.insert_case(GUILD, USER, MOD, "UNTEMPBAN", "gone from the enum")


async def test_get_case_by_id(legacy: DatabaseController) -> None:
    case = await legacy.case.insert_case(GUILD, USER, MOD, CaseType.WARN, "w")
    found = await legacy.case.get_case_by_id(case.id, include_guild=True)
    assert found is not None
    assert found.case_number == case.case_number
    assert await legacy.case.get_case_by_id(case.id + 100) is None


async def test_get_all_cases(legacy: DatabaseController) -> None:
    await ban(legacy)
    await ban(legacy, OTHER_USER)
    await ban(legacy, guild=OTHER_GUILD)
    assert [case.case_number for case in await legacy.case.get_all_cases(GUILD)] == [2, 1]


async def test_get_cases_by_options(legacy: DatabaseController) -> None:
    await ban(legacy)
    await legacy.case.insert_case(GUILD, USER, MOD, CaseType.TEMPBAN, "t", None, in_days(1))
    bans = await legacy.case.get_cases_by_options(GUILD, {"case_type": CaseType.BAN})
    assert [case.case_type for case in bans] == [CaseType.BAN]
    pending = await legacy.case.get_cases_by_options(
        GUILD, {"case_tempban_expired": False, "case_expires_at": {"gt": in_days(0)}}
    )
    assert [case.case_type for case in pending] == [CaseType.TEMPBAN]
    with pytest.raises(UnknownFieldError):
        await legacy.case.get_cases_by_options(GUILD, {"case_reason": {"contains": "t"}})


async def test_get_case_by_number(legacy: DatabaseController) -> None:
    number = await ban(legacy)
    case = await legacy.case.get_case_by_number(GUILD, number)
    assert case is not None
    assert case.case_user_id == USER
    assert await legacy.case.get_case_by_number(OTHER_GUILD, number) is None


async def test_get_all_cases_by_user_id(legacy: DatabaseController) -> None:
    for _ in range(3):
        await ban(legacy)
    await ban(legacy, OTHER_USER)
    cases = await legacy.case.get_all_cases_by_user_id(GUILD, USER, limit=2)
    assert [case.case_number for case in cases] == [3, 2]


async def test_get_all_cases_by_moderator_id(legacy: DatabaseController) -> None:
    await ban(legacy)
    await legacy.case.insert_case(GUILD, USER, MOD + 1, CaseType.WARN, "w")
    cases = await legacy.case.get_all_cases_by_moderator_id(GUILD, MOD)
    assert [case.case_moderator_id for case in cases] == [MOD]


async def test_get_latest_case_by_user(legacy: DatabaseController) -> None:
    await legacy.case.insert_case(GUILD, USER, MOD, CaseType.JAIL, "j", [1])
    await legacy.case.insert_case(GUILD, USER, MOD, CaseType.WARN, "w")
    latest = await legacy.case.get_latest_case_by_user(GUILD, USER, [CaseType.JAIL, CaseType.UNJAIL])
    assert latest is not None
    assert latest.case_type == CaseType.JAIL
    assert await legacy.case.get_latest_case_by_user(GUILD, USER, [CaseType.BAN]) is None


async def test_update_case(legacy: DatabaseController, cached_db: Database) -> None:
    number = await ban(legacy)
    updated = await legacy.case.update_case(GUILD, number, "new reason")
    assert updated is not None
    assert updated.case_reason == "new reason"
    voided = await legacy.case.update_case(GUILD, number, "mistake", case_status=False)
    assert voided is not None
    assert voided.case_status == CaseStatus.VOIDED
    assert not await cached_db.moderation.is_banned(GUILD, USER)
    assert await legacy.case.update_case(GUILD, 99, "none") is None


async def test_delete_case_by_number(legacy: DatabaseController) -> None:
    number = await ban(legacy)
    deleted = await legacy.case.delete_case_by_number(GUILD, number)
    assert deleted is not None
    assert deleted.case_number == number
    assert await legacy.case.get_case_by_number(GUILD, number) is None
    assert await legacy.case.delete_case_by_number(GUILD, number) is None


async def test_get_expired_tempbans(legacy: DatabaseController, cached_db: Database) -> None:
    case = await legacy.case.insert_case(GUILD, USER, MOD, CaseType.TEMPBAN, "t", None, in_days(1))
    await legacy.case.insert_case(GUILD, OTHER_USER, MOD, CaseType.TEMPBAN, "t", None, in_days(2))
    await cached_db.cases.update(case.id, {"case_expires_at": in_days(-1)})
    expired = await legacy.case.get_expired_tempbans()
    assert [row.case_user_id for row in expired] == [USER]


async def test_set_tempban_expired(legacy: DatabaseController) -> None:
    case = await legacy.case.insert_case(GUILD, USER, MOD, CaseType.TEMPBAN, "t", None, in_days(1))
    assert await legacy.case.set_tempban_expired(case.case_number, GUILD) == 1
    refreshed = await legacy.case.get_case_by_number(GUILD, case.case_number)
    assert refreshed is not None
    assert refreshed.case_processed
    assert await legacy.case.set_tempban_expired(99, GUILD) is None
    with pytest.raises(ValidationError):
        await legacy.case.set_tempban_expired(None, GUILD)


async def test_bulk_delete_cases_by_guild_id(legacy: DatabaseController) -> None:
    await ban(legacy)
    await ban(legacy, OTHER_USER)
    await ban(legacy, guild=OTHER_GUILD)
    assert await legacy.case.bulk_delete_cases_by_guild_id(GUILD) == 2
    assert await legacy.case.count_cases_by_guild_id(GUILD) == 0
    assert await legacy.case.count_cases_by_guild_id(OTHER_GUILD) == 1


async def test_count_cases_by_guild_id(legacy: DatabaseController) -> None:
    assert await legacy.case.count_cases_by_guild_id(GUILD) == 0
    await ban(legacy)
    await ban(legacy, OTHER_USER)
    assert await legacy.case.count_cases_by_guild_id(GUILD) == 2


async def test_count_cases_by_user_id(legacy: DatabaseController) -> None:
    await ban(legacy)
    await ban(legacy)
    await ban(legacy, OTHER_USER)
    assert await legacy.case.count_cases_by_user_id(GUILD, USER) == 2


async def test_is_user_under_restriction(legacy: DatabaseController) -> None:
    jail, unjail = CaseType.JAIL, CaseType.UNJAIL
    assert not await legacy.case.is_user_under_restriction(GUILD, USER, jail, unjail)
    await legacy.case.insert_case(GUILD, USER, MOD, jail, "j", [1])
    await legacy.case.insert_case(GUILD, USER, MOD, CaseType.WARN, "a later warning does not hide the jail")
    assert await legacy.case.is_user_under_restriction(GUILD, USER, jail, unjail)
    await legacy.case.insert_case(GUILD, USER, MOD, unjail, "u")
    assert not await legacy.case.is_user_under_restriction(GUILD, USER, jail, unjail)
    await legacy.case.insert_case(GUILD, USER, MOD, CaseType.TIMEOUT, "t", None, in_days(1))
    assert await legacy.case.is_user_under_restriction(GUILD, USER, CaseType.TIMEOUT, CaseType.UNTIMEOUT)
