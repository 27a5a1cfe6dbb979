"""Small pieces every entity repository shares: value checks, page sizes and the guild-row guard.

Every insert of a guild-owned row first makes sure the guild row exists, in the same session, with
``INSERT ... ON CONFLICT DO NOTHING`` (:func:`insert_guild_if_missing`), so the foreign key never fails
and two concurrent first events of a guild never race into a duplicate key.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession

from tux.database.core.session import SessionProvider
from tux.database.core.statements import Statement
from tux.database.exceptions import ValidationError
from tux.database.models import Guild
from tux.database.repositories.filters import MAX_IN_VALUES
from tux.database.repositories.validation import coerce_value, field_spec

MAX_PAGE_SIZE = 1000
"""Largest page a paginated query returns; bigger requests are refused rather than silently cut."""

MEMBER_KEY = ("member_id", "guild_id")
"""Key order of the AFK and levels tables in ``find_by_id``/``update``/``delete``: member first, the
order Tux's controllers pass them in, so ported cogs keep working."""


def dialect_insert(sessions: SessionProvider, model: type[Any]) -> Any:
    """Return the backend's ``insert`` (the one with ``on_conflict_do_*``) for ``model``."""
    return insert_for("sqlite" if sessions.is_sqlite else "postgresql", model)


def insert_for(dialect_name: str, model: type[Any]) -> Any:
    """Return the ``insert`` of the dialect called ``dialect_name`` for ``model`` (for a ``Statement``).

    The SQLite dialect is imported on first use, so a process on PostgreSQL never loads it.
    """
    if dialect_name == "sqlite":
        from sqlalchemy.dialects import sqlite  # noqa: PLC0415 - only on the SQLite backend

        return sqlite.insert(model)
    return postgresql.insert(model)


GUILD_IF_MISSING = Statement(
    lambda dialect: (
        insert_for(dialect, Guild)
        .values(id=bindparam("guild_id"))
        .on_conflict_do_nothing(index_elements=["id"])
    ),
    writes=True,
)
"""The insert-guild-if-missing guard as a direct statement (see :func:`insert_guild_if_missing`)."""


def in_list(label: str, values: object, what: str) -> Collection[object]:
    """Return ``values`` for an ``IN (...)`` list, each still to be checked like its column.

    A list, tuple or set of at most :data:`~tux.database.repositories.filters.MAX_IN_VALUES`; a bare
    string is refused, not split into letters.
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, set, frozenset)):
        raise ValidationError(f"{label}: expected a list, tuple or set of {what}")
    if len(values) > MAX_IN_VALUES:
        raise ValidationError(f"{label}: at most {MAX_IN_VALUES} values are allowed")
    return values


def upsert_returning(insert: Any, keys: Sequence[str], updated: Iterable[str], model: type[Any]) -> Any:
    """``insert ON CONFLICT (keys) DO UPDATE SET updated = excluded.updated RETURNING model``.

    No ``updated`` sets the first key to itself: a no-op update rather than ``DO NOTHING``, so that
    ``RETURNING`` yields the existing row too. The rows returned replace the instances a unit of work's
    session already holds (``populate_existing``).
    """
    excluded = insert.excluded
    assignments = {name: excluded[name] for name in updated} or {keys[0]: excluded[keys[0]]}
    upsert = insert.on_conflict_do_update(index_elements=list(keys), set_=assignments)
    return upsert.returning(model).execution_options(populate_existing=True)


def checked(model: type[Any], name: str, value: object) -> Any:
    """Return ``value`` validated for column ``name`` of ``model`` (raises before any SQL is built)."""
    return coerce_value(field_spec(model, name), value)


def checked_required(model: type[Any], name: str, value: object) -> Any:
    """Like :func:`checked` but refuses ``None`` even where the column is nullable."""
    if value is None:
        raise ValidationError(f"{name}: a value is required")
    return checked(model, name, value)


def page_size(limit: object, *, label: str = "limit") -> int:
    """Return ``limit`` if it is an integer between 1 and :data:`MAX_PAGE_SIZE`."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"{label} must be an integer between 1 and {MAX_PAGE_SIZE}")
    return limit


def finite_number(label: str, value: object, *, minimum: float, inclusive: bool = True) -> float:
    """Return ``value`` as a float, rejecting bools, NaN, infinities and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{label}: expected a number, got {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:
        raise ValidationError(f"{label}: {value!r} is too large") from None
    too_small = number < minimum if inclusive else number <= minimum
    if not math.isfinite(number) or too_small:
        bound = ">=" if inclusive else ">"
        raise ValidationError(f"{label}: expected a finite number {bound} {minimum:g}, got {value!r}")
    return number


async def insert_guild_if_missing(sessions: SessionProvider, session: AsyncSession, guild_id: int) -> None:
    """Insert the ``guild`` row of ``guild_id`` unless it exists, inside ``session``'s transaction.

    ``guild_id`` must already be validated. On PostgreSQL a concurrent inserter of the same guild makes
    this wait for that transaction and then do nothing, so racing first writes never fail.
    """
    statement = (
        dialect_insert(sessions, Guild).values(id=guild_id).on_conflict_do_nothing(index_elements=["id"])
    )
    await session.execute(statement)
