"""Detached instances built from a row: plain reads need no ORM state; anything else gets a real one."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm.base import DEFAULT_STATE_ATTR

from tux.database import Database
from tux.database.models import Base, GuildConfig, Levels
from tux.database.models.detached import detached_instance

GUILD = 555_555_555_555_555_555
MEMBER = 666_666_666_666_666_666


def row_of(instance: Base) -> dict[str, Any]:
    columns = inspect(type(instance)).column_attrs
    return {attribute.key: getattr(instance, attribute.key) for attribute in columns}


async def loaded_config(db: Database) -> GuildConfig:
    await db.guild_configs.upsert_config(GUILD, {"prefix": "!", "mod_log_id": 5})
    config = await db.guild_configs.find_by_id(GUILD)
    assert config is not None
    return config


async def test_reading_attributes_needs_no_state(db: Database) -> None:
    loaded = await loaded_config(db)
    rebuilt = detached_instance(GuildConfig, row_of(loaded))
    assert type(rebuilt) is GuildConfig
    assert (rebuilt.prefix, rebuilt.mod_log_id, rebuilt.id) == ("!", 5, GUILD)
    assert DEFAULT_STATE_ATTR not in vars(rebuilt)


async def test_the_state_is_made_on_first_use_with_the_loaded_identity(db: Database) -> None:
    loaded = await loaded_config(db)
    await db.levels.add_xp(guild_id=GUILD, member_id=MEMBER, amount=5)
    levels = await db.levels.find_by_id((MEMBER, GUILD))
    assert levels is not None
    for original in (loaded, levels):
        rebuilt = detached_instance(type(original), row_of(original))
        state = inspect(rebuilt)
        assert state.detached
        assert state.key == inspect(original).key
        assert state is inspect(rebuilt), "the state is made once"
    assert inspect(detached_instance(Levels, row_of(levels))).identity == (GUILD, MEMBER), "table key order"


async def test_a_change_is_tracked_and_can_be_merged(db: Database) -> None:
    rebuilt = detached_instance(GuildConfig, row_of(await loaded_config(db)))
    rebuilt.prefix = "?"
    assert inspect(rebuilt).modified
    assert inspect(rebuilt).committed_state == {"prefix": "!"}
    async with db.transaction() as unit:
        await unit.session.merge(rebuilt)
    again = await db.guild_configs.find_by_id(GUILD)
    assert again is not None
    assert again.prefix == "?"


async def test_it_can_be_added_to_a_session_as_persistent(db: Database) -> None:
    rebuilt = detached_instance(GuildConfig, row_of(await loaded_config(db)))
    async with db.transaction() as unit:
        unit.session.add(rebuilt)
        assert inspect(rebuilt).persistent
        rebuilt.prefix = "%"
    again = await db.guild_configs.find_by_id(GUILD)
    assert again is not None
    assert again.prefix == "%"


def test_constructed_instances_keep_sqlalchemy_behaviour() -> None:
    config = GuildConfig(id=GUILD, prefix="$")
    assert inspect(config).transient
    assert not hasattr(GuildConfig, DEFAULT_STATE_ATTR), "the class itself has no state"


def test_an_instance_without_its_primary_key_gets_no_state() -> None:
    partial = detached_instance(GuildConfig, {"prefix": "$"})
    assert not hasattr(partial, DEFAULT_STATE_ATTR)
    assert not hasattr(detached_instance(Levels, {"guild_id": GUILD}), DEFAULT_STATE_ATTR)
