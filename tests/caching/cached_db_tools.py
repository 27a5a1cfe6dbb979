"""Tools of the cached-repository tests: count the SQL a ``Database`` sends, hold a repository's reads."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, cast

from tux.database import Database
from tux.database.core.observe import StatementRecord
from tux.database.repositories.cached import CachedRepository

_DATA_STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class QueryCounter:
    """Counts the data statements (not BEGIN/COMMIT/PRAGMA) a ``Database``'s engine sends.

    Use as a context manager; ``count`` and ``statements`` grow as statements are sent.
    """

    def __init__(self, db: Database) -> None:
        self._hub = db.client.statements
        self._unsubscribe: Callable[[], None] | None = None
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        """How many data statements were sent so far."""
        return len(self.statements)

    def _seen(self, record: StatementRecord) -> None:
        if record.sql.lstrip().upper().startswith(_DATA_STATEMENTS):
            self.statements.append(record.sql)

    def __enter__(self) -> Self:
        self._unsubscribe = self._hub.subscribe(self._seen)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()


class HeldReads:
    """Makes ``repository``'s method ``name`` (behind its cache) stop after reading, until released.

    ``read`` is set once a call has read its row; the call returns it only after ``release`` is set.
    """

    def __init__(self, repository: object, name: str) -> None:
        self._inner = cast(CachedRepository, repository).wrapped
        self._name = name
        self._original = getattr(self._inner, name)
        self.calls = 0
        self.read = asyncio.Event()
        self.release = asyncio.Event()

    async def _held(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        row = await self._original(*args, **kwargs)
        self.read.set()
        await self.release.wait()
        return row

    def __enter__(self) -> Self:
        setattr(self._inner, self._name, self._held)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release.set()
        delattr(self._inner, self._name)
