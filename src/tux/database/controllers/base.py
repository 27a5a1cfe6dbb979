"""What every legacy controller shares: the deprecation warning and a few composed operations.

The legacy controllers keep the method names and arguments of Tux's Prisma-era controllers so that cogs
keep working while they move to the repositories and services. Each method is a line or two over
``db.<repository>`` or ``db.<service>``, so it is cached, atomic, monitored and joins the caller's
``db.transaction()``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from tux.database.facade import Database
    from tux.database.repositories.interfaces import IRepository

P = ParamSpec("P")
R = TypeVar("R")
M = TypeVar("M")


def legacy(
    new_call: str,
) -> Callable[[Callable[P, Coroutine[Any, Any, R]]], Callable[P, Coroutine[Any, Any, R]]]:
    """Mark a controller method deprecated in favour of ``new_call`` (``db.<attribute>.<method>``).

    The warning is issued when the method is called (not when its coroutine runs), so
    ``stacklevel=2`` points at the cog's line; the warnings filter decides how often it shows.
    """

    def decorate(method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        message = f"{method.__qualname__} is deprecated; use {new_call}"

        @functools.wraps(method)
        def call(*args: P.args, **kwargs: P.kwargs) -> Coroutine[Any, Any, R]:
            warnings.warn(message, DeprecationWarning, stacklevel=2)
            return method(*args, **kwargs)

        return call

    return decorate


class LegacyController:
    """Base of the legacy controllers: holds the ``Database`` their methods delegate to."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _delete_returning(self, repository: IRepository[M], identity: object) -> M | None:
        """Delete row ``identity`` and return it as it was (``None`` when missing), atomically."""
        async with self._db.transaction("legacy.delete"):
            row = await repository.find_by_id(identity)
            if row is None or not await repository.delete(identity):
                return None
            return row

    async def _delete_matching(self, repository: IRepository[M], **filters: Any) -> int:
        """Delete every row matching ``filters`` in one unit of work; return how many were deleted."""
        identity_of: Callable[[M], object] = getattr(repository, "identity_of")  # noqa: B009 - forwarded
        async with self._db.transaction("legacy.bulk_delete"):
            deleted = 0
            for row in await repository.find_all(**filters):
                deleted += await repository.delete(identity_of(row))
            return deleted
