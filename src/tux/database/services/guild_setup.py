"""``GuildSetupService``: onboarding a guild: its row, its config and Tux's default permission ranks.

Onboarding only ever inserts what is missing, in one transaction: an existing config keeps its prefix
and settings, an existing rank keeps its name, so running it again, or twenty times at once, changes
nothing. Two concurrent first onboardings of a guild that already has its row can both find no config;
the loser's insert hits the primary key, its transaction rolls back whole, and it runs once more, now
finding everything in place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tux.database.exceptions import ConflictError, ValidationError
from tux.database.models import OnboardingStage
from tux.database.repositories.interfaces import (
    IGuildConfigRepository,
    IGuildRepository,
    IPermissionRankRepository,
)
from tux.database.transactions.patterns import TransactionManager

DEFAULT_RANKS: tuple[Mapping[str, object], ...] = (
    {"rank": 0, "name": "Member", "description": "Basic server member"},
    {"rank": 1, "name": "Trusted", "description": "Trusted community member"},
    {"rank": 2, "name": "Junior Moderator", "description": "Entry-level moderation"},
    {"rank": 3, "name": "Moderator", "description": "Standard moderation"},
    {"rank": 4, "name": "Senior Moderator", "description": "Advanced moderation"},
    {"rank": 5, "name": "Administrator", "description": "Server administration"},
    {"rank": 6, "name": "Head Administrator", "description": "Full server control"},
    {"rank": 7, "name": "Server Owner", "description": "Complete access"},
)
"""Tux's default permission ranks 0-7."""

MAX_PREFIX_LENGTH = 10


@dataclass(frozen=True, slots=True)
class OnboardingSummary:
    """What :meth:`GuildSetupService.onboard` found and created.

    ``prefix`` is the guild's effective prefix: the requested one for a new config, the existing one
    otherwise.
    """

    guild_id: int
    prefix: str
    config_created: bool
    ranks_created: int

    @property
    def changed(self) -> bool:
        """Whether this call created anything (``False`` for an already onboarded guild)."""
        return self.config_created or self.ranks_created > 0


def _validate_prefix(prefix: object) -> str:
    if not isinstance(prefix, str) or not 1 <= len(prefix) <= MAX_PREFIX_LENGTH:
        raise ValidationError(f"prefix: expected 1-{MAX_PREFIX_LENGTH} characters, got {prefix!r}")
    if prefix != prefix.strip() or any(not char.isprintable() for char in prefix):
        raise ValidationError(f"prefix: no spaces around it and no control characters, got {prefix!r}")
    return prefix


class GuildSetupService:
    """Creates everything a guild needs before its first command, idempotently.

    Parameters
    ----------
    transactions
        Opens the onboarding's unit of work.
    guilds
        The guild row.
    guild_configs
        The guild's config row.
    permissions
        The guild's permission ranks.
    """

    def __init__(
        self,
        transactions: TransactionManager,
        *,
        guilds: IGuildRepository,
        guild_configs: IGuildConfigRepository,
        permissions: IPermissionRankRepository,
    ) -> None:
        self._transactions = transactions
        self._guilds = guilds
        self._guild_configs = guild_configs
        self._permissions = permissions

    async def onboard(self, guild_id: int, *, prefix: str = "$") -> OnboardingSummary:
        """Create the guild, its config (with ``prefix``) and the default ranks, whichever are missing.

        Raises
        ------
        ValidationError
            On a bad prefix.
        """
        _validate_prefix(prefix)
        try:
            return await self._run(guild_id, prefix)
        except ConflictError:
            # A concurrent onboarding inserted the config first and has committed; see the module doc.
            return await self._run(guild_id, prefix)

    async def _run(self, guild_id: int, prefix: str) -> OnboardingSummary:
        async def operation() -> OnboardingSummary:
            await self._guilds.ensure(guild_id)
            config = await self._guild_configs.find_by_id(guild_id)
            config_created = config is None
            if config is None:
                config = await self._guild_configs.create(
                    {"id": guild_id, "prefix": prefix, "onboarding_stage": OnboardingStage.INITIALIZED}
                )
            ranks_created = await self._permissions.ensure_ranks(guild_id, DEFAULT_RANKS)
            return OnboardingSummary(
                guild_id=guild_id,
                prefix=config.prefix,
                config_created=config_created,
                ranks_created=ranks_created,
            )

        return await self._transactions.execute_in_transaction(operation, name="guild_setup.onboard")
