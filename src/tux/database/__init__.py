"""tux-database: the data access layer of the Tux Discord bot.

``Database`` is imported lazily so that importing a submodule (``tux.database.models``, say) does not
load every layer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tux.database.facade import Database
    from tux.database.settings import DatabaseSettings

__all__ = ["Database", "DatabaseSettings"]


def __getattr__(name: str) -> Any:
    if name == "Database":
        from tux.database.facade import Database  # noqa: PLC0415 - deliberate lazy import

        return Database
    if name == "DatabaseSettings":
        from tux.database.settings import DatabaseSettings  # noqa: PLC0415

        return DatabaseSettings
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
