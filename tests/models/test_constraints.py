"""The schema's constraints fire on both backends and surface as the project's exceptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Executable, delete, insert, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from tux.database.core.errors import translate_error
from tux.database.exceptions import (
    CheckViolationError,
    ConflictError,
    DatabaseError,
    ForeignKeyError,
    ValidationError,
)
from tux.database.models import (
    AFK,
    AuditLog,
    Case,
    CaseStatus,
    CaseType,
    Guild,
    Levels,
    Snippet,
    Starboard,
)

GUILD_ID = 1_000_000_000_000_000_001
BIG_ROLE_ID = 1_234_567_890_123_456_789  # above 2**53: must survive JSON exactly


def _case(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "guild_id": GUILD_ID,
        "case_number": 1,
        "case_type": CaseType.WARN,
        "case_reason": "spam",
        "case_moderator_id": 11,
        "case_user_id": 22,
    }
    return values | overrides


async def _add_guild(engine: AsyncEngine, guild_id: int = GUILD_ID) -> None:
    async with AsyncSession(engine) as session, session.begin():
        session.add(Guild(id=guild_id))


async def _refused(engine: AsyncEngine, statement: Executable) -> DatabaseError:
    """Run ``statement`` in its own transaction and return the translated error it must raise."""
    with pytest.raises(sa_exc.DBAPIError) as raised:
        async with engine.begin() as connection:
            await connection.execute(statement)
    translated = translate_error(raised.value)
    assert translated is not None
    return translated


def _expect(error: DatabaseError, kind: type[DatabaseError], constraint: str | None = None) -> None:
    """Assert the error type and, when the backend reports one, the constraint name."""
    assert isinstance(error, kind), error
    if constraint is not None:
        assert getattr(error, "constraint", None) == constraint, error


async def test_check_constraints_fire(engine: AsyncEngine) -> None:
    await _add_guild(engine)
    now = datetime.now(UTC)
    cases = [
        (insert(Levels).values(guild_id=GUILD_ID, member_id=5, xp=-1.0), "ck_levels_xp_non_negative"),
        (
            insert(Starboard).values(
                guild_id=GUILD_ID, starboard_channel_id=7, starboard_emoji="⭐", starboard_threshold=0
            ),
            "ck_starboard_starboard_threshold_positive",
        ),
        (
            insert(AFK).values(
                guild_id=GUILD_ID, member_id=5, nickname="n", reason="r", since=now, until=now
            ),
            "ck_afk_until_after_since",
        ),
        (insert(Guild).values(id=0), "ck_guild_id_positive"),
        (insert(Case).values(**_case(case_reason="")), "ck_cases_case_reason_length"),
        (
            insert(Snippet).values(guild_id=GUILD_ID, snippet_name="x", snippet_user_id=5),
            "ck_snippet_content_or_alias",
        ),
    ]
    for statement, constraint in cases:
        _expect(await _refused(engine, statement), CheckViolationError, constraint)


async def test_enum_columns_refuse_unknown_values(engine: AsyncEngine) -> None:
    await _add_guild(engine)
    statement = text(
        "INSERT INTO cases (guild_id, case_number, case_type, case_reason, case_moderator_id, case_user_id,"
        " case_user_roles, case_created_at, case_processed, case_status, case_metadata)"
        " VALUES (:guild, 1, 'NOPE', 'r', 1, 2, '[]', :now, false, 'ACTIVE', '{}')"
    ).bindparams(guild=GUILD_ID, now=datetime(2024, 1, 1))

    _expect(await _refused(engine, statement), CheckViolationError, "ck_cases_case_type")


async def test_oversized_text_is_refused(engine: AsyncEngine) -> None:
    await _add_guild(engine)
    error = await _refused(engine, insert(Case).values(**_case(case_reason="x" * 2001)))

    if engine.dialect.name == "postgresql":
        # VARCHAR(2000) itself refuses first: SQLSTATE 22001, a data error rather than a CHECK.
        _expect(error, ValidationError)
    else:
        _expect(error, CheckViolationError, "ck_cases_case_reason_length")


async def test_duplicate_case_number_conflicts(engine: AsyncEngine) -> None:
    await _add_guild(engine)
    async with engine.begin() as connection:
        await connection.execute(insert(Case).values(**_case()))

    error = await _refused(engine, insert(Case).values(**_case(case_user_id=33)))

    postgres = engine.dialect.name == "postgresql"
    _expect(error, ConflictError, "uq_cases_guild_id_case_number" if postgres else None)


async def test_snippet_names_are_unique_regardless_of_case(engine: AsyncEngine) -> None:
    await _add_guild(engine)
    await _add_guild(engine, GUILD_ID + 1)
    snippet = {"snippet_content": "hello", "snippet_user_id": 5}
    async with engine.begin() as connection:
        await connection.execute(insert(Snippet).values(guild_id=GUILD_ID, snippet_name="Rules", **snippet))
        await connection.execute(
            insert(Snippet).values(guild_id=GUILD_ID + 1, snippet_name="rules", **snippet)
        )

    error = await _refused(engine, insert(Snippet).values(guild_id=GUILD_ID, snippet_name="rULES", **snippet))

    postgres = engine.dialect.name == "postgresql"
    _expect(error, ConflictError, "uq_snippet_guild_id_lower_snippet_name" if postgres else None)


async def test_foreign_keys_are_enforced_and_cascade(engine: AsyncEngine) -> None:
    error = await _refused(engine, insert(Case).values(**_case()))
    postgres = engine.dialect.name == "postgresql"
    _expect(error, ForeignKeyError, "fk_cases_guild_id_guild" if postgres else None)

    await _add_guild(engine)
    async with AsyncSession(engine) as session, session.begin():
        case = Case(**_case())
        session.add(case)
        await session.flush()
        session.add(AuditLog(guild_id=GUILD_ID, actor_id=11, action="case.create", case_id=case.id))
    async with engine.begin() as connection:
        await connection.execute(delete(Case))
        assert (await connection.execute(select(AuditLog.case_id))).scalars().all() == [None]
        await connection.execute(delete(Guild))
        assert (await connection.execute(select(AuditLog.id))).all() == []


async def test_defaults_and_round_trips(engine: AsyncEngine) -> None:
    await _add_guild(engine)
    async with AsyncSession(engine) as session, session.begin():
        session.add(Case(**_case(case_type=CaseType.JAIL, case_user_roles=[BIG_ROLE_ID, 7])))

    async with AsyncSession(engine) as session:
        case = (await session.execute(select(Case))).scalar_one()
        guild = await session.get(Guild, GUILD_ID)

    assert guild is not None
    assert guild.case_count == 0
    assert case.case_type is CaseType.JAIL
    assert case.case_status is CaseStatus.ACTIVE
    assert case.case_processed is False
    assert case.case_user_roles == [BIG_ROLE_ID, 7]
    assert case.case_metadata == {}
    assert case.case_created_at.tzinfo is UTC


async def test_timestamps_round_trip_as_aware_utc(engine: AsyncEngine) -> None:
    joined = datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    async with AsyncSession(engine) as session, session.begin():
        session.add(Guild(id=GUILD_ID, guild_joined_at=joined))

    async with engine.connect() as connection:
        stored = await connection.scalar(select(Guild.guild_joined_at))

    assert stored == joined
    assert stored is not None
    assert stored.tzinfo is UTC
    assert stored.hour == 10


async def test_naive_timestamps_are_refused(engine: AsyncEngine) -> None:
    with pytest.raises(sa_exc.StatementError) as raised:
        async with AsyncSession(engine) as session, session.begin():
            session.add(Guild(id=GUILD_ID, guild_joined_at=datetime(2024, 3, 1, 12, 0)))

    assert isinstance(raised.value.orig, ValueError)
    async with engine.connect() as connection:
        assert await connection.scalar(select(Guild.id)) is None
