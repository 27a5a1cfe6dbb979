"""``db.controller.guild_config``: Tux's Prisma-era ``GuildConfigController`` over ``db.guild_configs``.

Our config has the prefix, the six log channels, the jail channel and the jail role. Tux's
``general_channel_id``, ``starboard_channel_id`` (see ``db.starboards``), base staff/member and
quarantine roles have no column here, so their getters and setters are left out rather than answering
``None`` for ever. Tux's permission levels 0-7 (``perm_level_<n>_role_id``) are the ranks 0-7 of
``db.permissions``; a rank may be granted by several roles.
"""

from __future__ import annotations

import re
from typing import Any, cast

from tux.database.controllers.base import LegacyController, legacy
from tux.database.exceptions import ValidationError
from tux.database.models import Guild, GuildConfig, PermissionAssignment

LOG_CHANNELS = {
    "mod": "mod_log_id",
    "audit": "audit_log_id",
    "join": "join_log_id",
    "private": "private_log_id",
    "report": "report_log_id",
    "dev": "dev_log_id",
}
PERM_LEVEL = re.compile(r"(?:perm_level_)?([0-7])(?:_role_id)?")
"""Tux's eight permission levels, named by config field (``perm_level_3_role_id``) or number (``"3"``)."""
DEFAULT_PREFIX: str = GuildConfig.__table__.c.prefix.default.arg


class GuildConfigController(LegacyController):
    """Guild configuration with the methods and arguments of Tux's ``GuildConfigController``."""

    @legacy("db.guilds.ensure")
    async def ensure_guild_exists(self, guild_id: int) -> Guild:
        """Return the guild, inserting it when missing."""
        return await self._db.guilds.ensure(guild_id)

    @legacy("db.guild_setup.onboard")
    async def insert_guild_config(self, guild_id: int) -> GuildConfig:
        """Create the guild's config with defaults (and its guild row); an existing one is kept."""
        return await self._db.guild_configs.upsert_config(guild_id, {})

    @legacy("db.guild_configs.find_by_id")
    async def get_guild_config(self, guild_id: int) -> GuildConfig | None:
        """Return the guild's config, ``None`` when it has none."""
        return await self._db.guild_configs.find_by_id(guild_id)

    @legacy("db.guild_configs.get_prefix")
    async def get_guild_prefix(self, guild_id: int) -> str | None:
        """Return the guild's prefix, ``None`` when it has no config."""
        return await self._db.guild_configs.get_prefix(guild_id)

    @legacy("db.guild_configs.get_moderation_settings")
    async def get_log_channel(self, guild_id: int, log_type: str) -> int | None:
        """Return the channel of log ``log_type`` (``mod``, ``audit``, ``join``, ``private``, ...)."""
        if log_type not in LOG_CHANNELS:
            raise ValidationError(f"log_type: expected one of {sorted(LOG_CHANNELS)}, got {log_type!r}")
        return await self._channel(guild_id, LOG_CHANNELS[log_type])

    @legacy("db.guild_configs.find_by_id")
    async def get_guild_config_field_value(self, guild_id: int, field: str) -> Any:
        """Return one field of the guild's config; ``None`` without a config or for an unknown field."""
        return await self._field(guild_id, field)

    @legacy("db.guild_configs.get_moderation_settings")
    async def get_mod_log_id(self, guild_id: int) -> int | None:
        """Return the moderation log channel."""
        return await self._channel(guild_id, "mod_log_id")

    @legacy("db.guild_configs.get_moderation_settings")
    async def get_audit_log_id(self, guild_id: int) -> int | None:
        """Return the audit log channel."""
        return await self._channel(guild_id, "audit_log_id")

    @legacy("db.guild_configs.get_moderation_settings")
    async def get_join_log_id(self, guild_id: int) -> int | None:
        """Return the join log channel."""
        return await self._channel(guild_id, "join_log_id")

    @legacy("db.guild_configs.get_moderation_settings")
    async def get_private_log_id(self, guild_id: int) -> int | None:
        """Return the private log channel."""
        return await self._channel(guild_id, "private_log_id")

    @legacy("db.guild_configs.get_moderation_settings")
    async def get_report_log_id(self, guild_id: int) -> int | None:
        """Return the report log channel."""
        return await self._channel(guild_id, "report_log_id")

    @legacy("db.guild_configs.get_moderation_settings")
    async def get_dev_log_id(self, guild_id: int) -> int | None:
        """Return the developer log channel."""
        return await self._channel(guild_id, "dev_log_id")

    @legacy("db.guild_configs.get_moderation_settings")
    async def get_jail_channel_id(self, guild_id: int) -> int | None:
        """Return the jail channel."""
        return await self._channel(guild_id, "jail_channel_id")

    @legacy("db.guild_configs.get_moderation_settings")
    async def get_jail_role_id(self, guild_id: int) -> int | None:
        """Return the jail role."""
        return await self._channel(guild_id, "jail_role_id")

    @legacy("db.permissions.assigned_roles")
    async def get_perm_level_role(self, guild_id: int, level: str) -> int | None:
        """Return the role of Tux's ``perm_level_<n>_role_id`` (rank ``n``); the lowest id when several."""
        roles = (await self._db.permissions.assigned_roles(guild_id)).get(perm_level(level), [])
        return roles[0] if roles else None

    @legacy("db.permissions.member_rank")
    async def get_perm_level_roles(self, guild_id: int, lower_bound: int) -> list[int]:
        """Return the roles granting rank ``lower_bound`` or higher, lowest rank first."""
        assigned = await self._db.permissions.assigned_roles(guild_id)
        return [role for rank, roles in assigned.items() if rank >= lower_bound for role in roles]

    @legacy("db.permissions.assign_role")
    async def update_perm_level_role(self, guild_id: int, level: str, role_id: int) -> PermissionAssignment:
        """Make ``role_id`` grant rank ``level`` (``"0"`` to ``"7"``), creating the rank when missing."""
        rank = perm_level(level)
        async with self._db.transaction("legacy.guild_config.update_perm_level_role"):
            await self._db.permissions.ensure_ranks(guild_id, [{"rank": rank, "name": f"Level {rank}"}])
            return await self._db.permissions.assign_role(guild_id, role_id, rank)

    @legacy("db.guild_configs.upsert_config")
    async def update_guild_prefix(self, guild_id: int, prefix: str) -> GuildConfig:
        """Set the guild's prefix (creating guild and config when missing)."""
        return await self._set(guild_id, prefix=prefix)

    @legacy("db.guild_configs.upsert_config")
    async def update_mod_log_id(self, guild_id: int, mod_log_id: int) -> GuildConfig:
        """Set the moderation log channel."""
        return await self._set(guild_id, mod_log_id=mod_log_id)

    @legacy("db.guild_configs.upsert_config")
    async def update_audit_log_id(self, guild_id: int, audit_log_id: int) -> GuildConfig:
        """Set the audit log channel."""
        return await self._set(guild_id, audit_log_id=audit_log_id)

    @legacy("db.guild_configs.upsert_config")
    async def update_join_log_id(self, guild_id: int, join_log_id: int) -> GuildConfig:
        """Set the join log channel."""
        return await self._set(guild_id, join_log_id=join_log_id)

    @legacy("db.guild_configs.upsert_config")
    async def update_private_log_id(self, guild_id: int, private_log_id: int) -> GuildConfig:
        """Set the private log channel."""
        return await self._set(guild_id, private_log_id=private_log_id)

    @legacy("db.guild_configs.upsert_config")
    async def update_report_log_id(self, guild_id: int, report_log_id: int) -> GuildConfig:
        """Set the report log channel."""
        return await self._set(guild_id, report_log_id=report_log_id)

    @legacy("db.guild_configs.upsert_config")
    async def update_dev_log_id(self, guild_id: int, dev_log_id: int) -> GuildConfig:
        """Set the developer log channel."""
        return await self._set(guild_id, dev_log_id=dev_log_id)

    @legacy("db.guild_configs.upsert_config")
    async def update_jail_channel_id(self, guild_id: int, jail_channel_id: int) -> GuildConfig:
        """Set the jail channel."""
        return await self._set(guild_id, jail_channel_id=jail_channel_id)

    @legacy("db.guild_configs.upsert_config")
    async def update_jail_role_id(self, guild_id: int, jail_role_id: int) -> GuildConfig:
        """Set the jail role."""
        return await self._set(guild_id, jail_role_id=jail_role_id)

    @legacy("db.guild_configs.upsert_config")
    async def update_guild_config(self, guild_id: int, data: dict[str, object]) -> GuildConfig:
        """Set the fields in ``data`` (creating guild and config when missing)."""
        return await self._db.guild_configs.upsert_config(guild_id, data)

    @legacy("db.guild_configs.delete")
    async def delete_guild_config(self, guild_id: int) -> None:
        """Delete the guild's config."""
        await self._db.guild_configs.delete(guild_id)

    @legacy("db.guild_configs.update")
    async def delete_guild_prefix(self, guild_id: int) -> None:
        """Put the guild's prefix back to the default (the column is never empty here)."""
        await self._db.guild_configs.update(guild_id, {"prefix": DEFAULT_PREFIX})

    async def _channel(self, guild_id: int, field: str) -> int | None:
        return cast("int | None", await self._field(guild_id, field))

    async def _field(self, guild_id: int, field: str) -> Any:
        config = await self._db.guild_configs.find_by_id(guild_id)
        return getattr(config, field, None) if field in GuildConfig.__table__.c else None

    async def _set(self, guild_id: int, **values: object) -> GuildConfig:
        return await self._db.guild_configs.upsert_config(guild_id, values)


def perm_level(level: object) -> int:
    """Return the rank of Tux's permission level ``level`` (a field name, a digit or an int 0-7)."""
    match = PERM_LEVEL.fullmatch(str(level))
    if match is None:
        raise ValidationError(f"level: expected perm_level_<0-7>_role_id or 0-7, got {level!r}")
    return int(match.group(1))
