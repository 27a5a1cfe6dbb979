"""Every legacy method warns, names its replacement on ``db``, and keeps Tux's signature."""

from __future__ import annotations

import inspect
import warnings
from typing import Any

import pytest

from tux.database import Database
from tux.database.controllers import DatabaseController
from tux.database.controllers.base import LegacyController
from tux.database.models import CaseType

CONTROLLERS = (
    "afk",
    "case",
    "guild",
    "guild_config",
    "levels",
    "reminder",
    "snippet",
    "starboard",
    "starboard_message",
)


def public_methods(controller: LegacyController) -> list[tuple[str, Any]]:
    return [
        (name, member)
        for name, member in inspect.getmembers(controller, callable)
        if not name.startswith("_")
    ]


def dummy_arguments(method: Any) -> tuple[list[object], dict[str, object]]:
    args: list[object] = []
    kwargs: dict[str, object] = {}
    for parameter in inspect.signature(method).parameters.values():
        if parameter.default is not inspect.Parameter.empty:
            continue
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[parameter.name] = 1
        else:
            args.append(1)
    return args, kwargs


def test_every_method_warns_at_the_call_and_names_a_db_replacement(tmp_path: Any) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'contract.sqlite3'}", cache_enabled=False)
    checked = 0
    for attribute in CONTROLLERS:
        for name, method in public_methods(getattr(db.controller, attribute)):
            args, kwargs = dummy_arguments(method)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = method(*args, **kwargs)
                if inspect.iscoroutine(result):
                    result.close()
            assert len(caught) == 1, f"{attribute}.{name}"
            warning = caught[0]
            assert warning.category is DeprecationWarning
            assert warning.filename == __file__, f"{attribute}.{name} warns at the wrong frame"
            message = str(warning.message)
            assert "is deprecated; use " in message
            assert "db." in message or "levels_formula" in message, message
            checked += 1
    assert checked >= 100


async def test_db_controller_is_one_instance_per_database(db: Database) -> None:
    assert db.controller is db.controller
    assert isinstance(db.controller, DatabaseController)
    assert db.controller.case is db.controller.case
    assert db.controller.db is db


async def test_calls_join_the_callers_transaction(db: Database) -> None:
    guild = 999_999_999_999_999_999
    member = 1_000_000_000_000_000_001

    async def abort_after_legacy_calls() -> None:
        async with db.transaction():
            await db.controller.guild_config.update_guild_prefix(guild, "!")
            await db.controller.levels.add_xp(member, guild, 50)
            await db.controller.case.insert_case(guild, member, member + 1, CaseType.BAN, "spam")
            raise RuntimeError("abort")

    with (
        pytest.warns(DeprecationWarning, match="is deprecated; use db."),
        pytest.raises(RuntimeError, match="abort"),
    ):
        await abort_after_legacy_calls()
    assert await db.guild_configs.find_by_id(guild) is None
    assert await db.levels.find_by_id((member, guild)) is None
    assert await db.guilds.find_by_id(guild) is None
    assert await db.cases.count(guild_id=guild) == 0
    assert await db.member_status.get_status(guild, member) is None
    assert await db.audit_log.page(guild) == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_legacy_reads_are_cached_and_writes_are_monitored(cached_db: Database) -> None:
    guild = 999_999_999_999_999_998
    legacy = cached_db.controller
    await legacy.guild_config.update_guild_prefix(guild, "!")
    assert await legacy.guild_config.get_guild_prefix(guild) == "!"
    with cached_db.client.statements.recording() as statements:
        assert await legacy.guild_config.get_guild_prefix(guild) == "!"
        assert await legacy.guild_config.get_jail_role_id(guild) is None
    assert statements == [], "a repeated legacy read is served from the cache"
    await legacy.guild_config.update_guild_prefix(guild, "?")
    assert await legacy.guild_config.get_guild_prefix(guild) == "?", "the legacy write invalidated it"
    await legacy.case.insert_case(guild, 1_000_000_000_000_000_001, 42, CaseType.WARN, "w")
    await legacy.levels.toggle_blacklist(1_000_000_000_000_000_001, guild)
    operations = cached_db.transactions.monitor.snapshot()
    assert operations["moderation.warn"].total == 1
    assert operations["legacy.levels.toggle_blacklist"].total == 1
