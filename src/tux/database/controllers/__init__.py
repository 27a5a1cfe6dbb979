"""``DatabaseController``: the controller API Tux's cogs were written against, over this project.

``db.controller`` is the one instance of a ``Database`` (``DatabaseController(db)`` builds one by hand).
Its attributes carry the names of Tux's Prisma-era controllers (``case``, ``guild_config``, ``levels``,
``snippet``, ``afk``, ``reminder``, ``starboard``, ``starboard_message``, ``guild``) with their methods,
parameter names, order, defaults and return values. Every call issues a :class:`DeprecationWarning`
naming its replacement on ``db``; see the README's migration guide.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tux.database.controllers.afk import AfkController
from tux.database.controllers.case import CaseController
from tux.database.controllers.guild import GuildController
from tux.database.controllers.guild_config import GuildConfigController
from tux.database.controllers.levels import LevelsController
from tux.database.controllers.reminder import ReminderController
from tux.database.controllers.snippet import SnippetController
from tux.database.controllers.starboard import StarboardController, StarboardMessageController

if TYPE_CHECKING:
    from tux.database.facade import Database

__all__ = [
    "AfkController",
    "CaseController",
    "DatabaseController",
    "GuildConfigController",
    "GuildController",
    "LevelsController",
    "ReminderController",
    "SnippetController",
    "StarboardController",
    "StarboardMessageController",
]


class DatabaseController:
    """Tux's ``DatabaseController`` over one ``Database``: a legacy controller per former table."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.afk = AfkController(db)
        self.case = CaseController(db)
        self.guild = GuildController(db)
        self.guild_config = GuildConfigController(db)
        self.levels = LevelsController(db)
        self.reminder = ReminderController(db)
        self.snippet = SnippetController(db)
        self.starboard = StarboardController(db)
        self.starboard_message = StarboardMessageController(db)

    def __repr__(self) -> str:
        return f"DatabaseController({self.db!r})"
