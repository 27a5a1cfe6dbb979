"""``db.controller.guild`` and ``db.controller.guild_config``: Tux's guild and config controllers."""

from __future__ import annotations

import pytest

from tests.controllers.conftest import CHANNEL, GUILD, OTHER_GUILD
from tux.database import Database
from tux.database.controllers import DatabaseController
from tux.database.exceptions import ConflictError, ValidationError
from tux.database.models.guild_config import CHANNEL_AND_ROLE_COLUMNS

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CHANNEL_FIELDS = CHANNEL_AND_ROLE_COLUMNS


async def test_get_guild_by_id(legacy: DatabaseController) -> None:
    assert await legacy.guild.get_guild_by_id(GUILD) is None
    await legacy.guild.insert_guild_by_id(GUILD)
    guild = await legacy.guild.get_guild_by_id(GUILD)
    assert guild is not None
    assert guild.id == GUILD


async def test_get_or_create_guild(legacy: DatabaseController) -> None:
    created = await legacy.guild.get_or_create_guild(GUILD)
    again = await legacy.guild.get_or_create_guild(GUILD)
    assert created.id == again.id == GUILD
    assert len(await legacy.guild.get_all_guilds()) == 1


async def test_insert_guild_by_id(legacy: DatabaseController) -> None:
    assert (await legacy.guild.insert_guild_by_id(GUILD)).case_count == 0
    with pytest.raises(ConflictError):
        await legacy.guild.insert_guild_by_id(GUILD)


async def test_delete_guild_by_id(legacy: DatabaseController) -> None:
    await legacy.guild_config.update_guild_prefix(GUILD, "!")
    assert await legacy.guild.delete_guild_by_id(GUILD) is None
    assert await legacy.guild.get_guild_by_id(GUILD) is None
    assert await legacy.guild_config.get_guild_prefix(GUILD) is None


async def test_get_all_guilds(legacy: DatabaseController) -> None:
    await legacy.guild.insert_guild_by_id(OTHER_GUILD)
    await legacy.guild.insert_guild_by_id(GUILD)
    assert [guild.id for guild in await legacy.guild.get_all_guilds()] == [GUILD, OTHER_GUILD]


async def test_ensure_guild_exists(legacy: DatabaseController) -> None:
    assert (await legacy.guild_config.ensure_guild_exists(GUILD)).id == GUILD
    assert await legacy.guild.get_guild_by_id(GUILD) is not None


async def test_insert_guild_config(legacy: DatabaseController) -> None:
    config = await legacy.guild_config.insert_guild_config(GUILD)
    assert config.id == GUILD
    assert config.prefix == "$"


async def test_get_guild_config(legacy: DatabaseController) -> None:
    assert await legacy.guild_config.get_guild_config(GUILD) is None
    await legacy.guild_config.update_mod_log_id(GUILD, CHANNEL)
    config = await legacy.guild_config.get_guild_config(GUILD)
    assert config is not None
    assert config.mod_log_id == CHANNEL


async def test_get_guild_prefix_and_update_guild_prefix(legacy: DatabaseController) -> None:
    assert await legacy.guild_config.get_guild_prefix(GUILD) is None
    await legacy.guild_config.update_guild_prefix(GUILD, "!")
    assert await legacy.guild_config.get_guild_prefix(GUILD) == "!"
    await legacy.guild_config.update_guild_prefix(GUILD, "?")
    assert await legacy.guild_config.get_guild_prefix(GUILD) == "?"


async def test_get_log_channel(legacy: DatabaseController) -> None:
    await legacy.guild_config.update_report_log_id(GUILD, CHANNEL)
    assert await legacy.guild_config.get_log_channel(GUILD, "report") == CHANNEL
    assert await legacy.guild_config.get_log_channel(GUILD, "mod") is None
    with pytest.raises(ValidationError):
        await legacy.guild_config.get_log_channel(GUILD, "nonsense")


async def test_get_guild_config_field_value(legacy: DatabaseController) -> None:
    assert await legacy.guild_config.get_guild_config_field_value(GUILD, "prefix") is None
    await legacy.guild_config.update_guild_prefix(GUILD, "!")
    assert await legacy.guild_config.get_guild_config_field_value(GUILD, "prefix") == "!"
    assert await legacy.guild_config.get_guild_config_field_value(GUILD, "_sa_instance_state") is None


@pytest.mark.parametrize("field", CHANNEL_FIELDS)
async def test_channel_and_role_getters_and_setters(legacy: DatabaseController, field: str) -> None:
    config = legacy.guild_config
    getter, setter = getattr(config, f"get_{field}"), getattr(config, f"update_{field}")
    assert await getter(GUILD) is None
    for offset in (0, 1):
        written = await setter(GUILD, CHANNEL + offset)
        assert getattr(written, field) == CHANNEL + offset
        assert await getter(GUILD) == CHANNEL + offset
    others = [name for name in CHANNEL_FIELDS if name != field]
    assert [await getattr(config, f"get_{name}")(GUILD) for name in others] == [None] * len(others)


async def test_update_guild_config(legacy: DatabaseController) -> None:
    config = await legacy.guild_config.update_guild_config(GUILD, {"prefix": "%", "dev_log_id": CHANNEL})
    assert (config.prefix, config.dev_log_id) == ("%", CHANNEL)
    with pytest.raises(ValidationError):
        await legacy.guild_config.update_guild_config(GUILD, {"perm_level_0_role_id": CHANNEL})


async def test_delete_guild_config(legacy: DatabaseController) -> None:
    await legacy.guild_config.update_guild_prefix(GUILD, "!")
    assert await legacy.guild_config.delete_guild_config(GUILD) is None
    assert await legacy.guild_config.get_guild_config(GUILD) is None
    assert await legacy.guild.get_guild_by_id(GUILD) is not None


async def test_delete_guild_prefix(legacy: DatabaseController, cached_db: Database) -> None:
    await legacy.guild_config.update_guild_prefix(GUILD, "!")
    assert await legacy.guild_config.delete_guild_prefix(GUILD) is None
    assert await cached_db.guild_configs.get_prefix(GUILD) == "$"


async def test_update_perm_level_role(legacy: DatabaseController, cached_db: Database) -> None:
    assignment = await legacy.guild_config.update_perm_level_role(GUILD, "3", CHANNEL)
    assert assignment.role_id == CHANNEL
    await legacy.guild_config.update_perm_level_role(GUILD, "3", CHANNEL + 2)
    await legacy.guild_config.update_perm_level_role(GUILD, "5", CHANNEL + 1)
    assert await cached_db.permissions.member_rank(GUILD, [CHANNEL + 1]) == 5
    assert await cached_db.permissions.assigned_roles(GUILD) == {3: [CHANNEL, CHANNEL + 2], 5: [CHANNEL + 1]}
    with pytest.raises(ValidationError):
        await legacy.guild_config.update_perm_level_role(GUILD, "8", CHANNEL)


async def test_get_perm_level_role(legacy: DatabaseController) -> None:
    assert await legacy.guild_config.get_perm_level_role(GUILD, "perm_level_3_role_id") is None
    await legacy.guild_config.update_perm_level_role(GUILD, "3", CHANNEL + 1)
    await legacy.guild_config.update_perm_level_role(GUILD, "3", CHANNEL)
    assert await legacy.guild_config.get_perm_level_role(GUILD, "perm_level_3_role_id") == CHANNEL
    assert await legacy.guild_config.get_perm_level_role(GUILD, "perm_level_4_role_id") is None
    with pytest.raises(ValidationError):
        await legacy.guild_config.get_perm_level_role(GUILD, "prefix")


async def test_get_perm_level_roles(legacy: DatabaseController) -> None:
    assert await legacy.guild_config.get_perm_level_roles(GUILD, 0) == []
    for level, role in (("1", CHANNEL), ("4", CHANNEL + 4), ("7", CHANNEL + 7)):
        await legacy.guild_config.update_perm_level_role(GUILD, level, role)
    assert await legacy.guild_config.get_perm_level_roles(GUILD, 4) == [CHANNEL + 4, CHANNEL + 7]
    assert await legacy.guild_config.get_perm_level_roles(GUILD, 0) == [CHANNEL, CHANNEL + 4, CHANNEL + 7]
    assert await legacy.guild_config.get_perm_level_roles(OTHER_GUILD, 0) == []
