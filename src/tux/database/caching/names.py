"""The names of the cached kinds and of the events that invalidate them, written once.

Policies (:mod:`~tux.database.caching.config`) and the repository declarations (each cached
repository's ``cache_seam`` and method markers) both use these constants, so a misspelled name is a
``NameError`` at import, not a kind that silently takes the default policy.
"""

from __future__ import annotations

from typing import Final

GUILD_CONFIG: Final = "guild_config"
USER_LEVELS: Final = "user_levels"
LEVELS_LEADERBOARD: Final = "levels_leaderboard"
LEVELS_RANK: Final = "levels_rank"
LEVELS_MESSAGE: Final = "levels_message"
LEVELS_REWARDS: Final = "levels_rewards"
CASES: Final = "cases"
CASE_STATS: Final = "case_stats"
SNIPPETS: Final = "snippets"
MEMBER_STATUS: Final = "member_status"
AFK: Final = "afk"
STARBOARD: Final = "starboard"

GUILD_CONFIG_UPDATE: Final = "guild_config_update"
XP_UPDATE: Final = "xp_update"
LEVELS_CONFIG_UPDATE: Final = "levels_config_update"
CASE_UPDATE: Final = "case_update"
SNIPPET_UPDATE: Final = "snippet_update"
MEMBER_STATUS_UPDATE: Final = "member_status_update"
AFK_UPDATE: Final = "afk_update"
STARBOARD_UPDATE: Final = "starboard_update"
GUILD_DELETE: Final = "guild_delete"
"""Invalidates every kind's group in the guild; needs no rule."""
