"""The oracle every hostile call is judged by, and the databases the hostile tests run on."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, inspect, select

from tux.database.exceptions import DatabaseError, ValidationError
from tux.database.models import Base
from tux.database.repositories.afk import AfkRepository
from tux.database.repositories.audit_log import AuditLogRepository
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.cases import CaseRepository
from tux.database.repositories.guild import GuildRepository
from tux.database.repositories.guild_config import GuildConfigRepository
from tux.database.repositories.levels import LevelsRepository
from tux.database.repositories.levels_config import LevelsConfigRepository
from tux.database.repositories.member_status import MemberStatusRepository
from tux.database.repositories.permissions import PermissionRankRepository
from tux.database.repositories.reminders import ReminderRepository
from tux.database.repositories.snippets import SnippetRepository
from tux.database.repositories.starboard import StarboardMessageRepository, StarboardRepository

if TYPE_CHECKING:
    from tux.database import Database

GUILD = 7_100_000_000_000_001
"""The guild the hostile tests seed; other ids come from :data:`FRESH_IDS`."""

FRESH_IDS = itertools.count(8_100_000_000_000_001)
"""Unique positive ids for rows each example creates (no example collides with another's rows)."""

REPOSITORIES: dict[str, type[SQLAlchemyRepository[Any]]] = {
    "guilds": GuildRepository,
    "guild_configs": GuildConfigRepository,
    "cases": CaseRepository,
    "member_status": MemberStatusRepository,
    "audit_log": AuditLogRepository,
    "permissions": PermissionRankRepository,
    "snippets": SnippetRepository,
    "levels": LevelsRepository,
    "levels_config": LevelsConfigRepository,
    "afk": AfkRepository,
    "reminders": ReminderRepository,
    "starboards": StarboardRepository,
    "starboard_messages": StarboardMessageRepository,
}
"""Every repository a ``Database`` hands out, by attribute name, with its implementation class."""


def key_fields(name: str) -> tuple[str, ...]:
    """The primary-key fields of repository ``name`` in the order its ``find_by_id`` takes them."""
    implementation = REPOSITORIES[name]
    return implementation.identity_fields or tuple(
        inspect(implementation.model).get_property_by_column(column).key
        for column in inspect(implementation.model).primary_key
    )


_COUNTED = [table for table in Base.metadata.sorted_tables if table.name != "cache_entry"]


async def row_counts(db: Database) -> dict[str, int]:
    """Rows of every data table (the cache table is the cache's business, not the caller's data)."""
    async with db.client.engine.connect() as connection:
        return {
            table.name: int((await connection.execute(select(func.count()).select_from(table))).scalar_one())
            for table in _COUNTED
        }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a hostile call did: its result, or the project error it raised."""

    result: object = None
    error: DatabaseError | None = None

    @property
    def refused(self) -> bool:
        """Whether the call raised one of the project's errors."""
        return self.error is not None


async def judge(db: Database, label: str, call: Callable[[], Awaitable[Any]]) -> Outcome:
    """Run ``call`` and hold it to the rules of hostile input.

    Any exception outside the project's hierarchy fails the test. A refused call must leave every
    table's row count as it was, and a :class:`ValidationError` must come before any data statement
    (the cache table's own reads and stamps are the cache's business; ``test_known_gaps`` pins the
    one case where they run before a refusal).
    """
    before = await row_counts(db)
    with db.client.statements.recording() as sent:
        try:
            result = await call()
        except DatabaseError as error:
            refused: DatabaseError | None = error
        except Exception as error:
            raise AssertionError(f"{label}: {type(error).__name__} escaped: {error!r}") from error
        else:
            refused = None
    if refused is None:
        return Outcome(result=result)
    assert await row_counts(db) == before, f"{label}: refused ({refused!r}) but rows changed"
    if isinstance(refused, ValidationError):
        statements = [record.sql for record in sent if "cache_entry" not in record.sql]
        assert statements == [], f"{label}: SQL ran before {refused!r}: {statements}"
    return Outcome(error=refused)
