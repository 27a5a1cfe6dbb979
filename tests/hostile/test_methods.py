"""Every public repository and service method under hostile arguments, on both backends.

For each call one or two parameters get a hostile value (ids past 64 bits, wrong types, SQL, quotes,
NUL, emoji, RTL, lone surrogates, over-long text, naive datetimes, ...) and the rest a valid one in
a seeded guild. The call must answer, or raise one of the project's errors with nothing written; a
write that accepted text must have stored it verbatim.
"""

from __future__ import annotations

import inspect
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import inspect as inspect_orm
from sqlalchemy.ext.asyncio import AsyncSession

from tests.hostile.catalogue import (
    GENERIC,
    OWNERS,
    SNIPPET,
    Method,
    baseline,
    catalogue,
    hostile,
    owner_object,
    public_methods,
)
from tests.hostile.harness import GUILD, judge
from tests.hostile.values import HOSTILE
from tux.database.exceptions import ValidationError
from tux.database.models import Base
from tux.database.repositories.interfaces import IRepository

if TYPE_CHECKING:
    from tux.database import Database

METHODS = catalogue()

STORED: dict[tuple[str, str], dict[str, str]] = {
    **{
        ("moderation_service", name): {"reason": "case_reason"}
        for name in public_methods("moderation_service")
        if name.endswith("_user")
    },
    ("moderation_service", "void_case"): {"reason": "case_void_reason"},
    ("cases", "void"): {"reason": "case_void_reason"},
    ("snippet_service", "create"): {"name": "snippet_name", "content": "snippet_content"},
    ("snippet_service", "create_alias"): {"name": "snippet_name"},
    ("snippet_service", "edit"): {"content": "snippet_content"},
    ("afk_service", "set_afk"): {"nickname": "nickname", "reason": "reason"},
    ("reminder_service", "create"): {"content": "reminder_content"},
    ("audit_log", "append"): {"action": "action"},
    ("permissions", "set_command_rank"): {"command_name": "command_name"},
}
"""Text parameters each write stores, and the column of its result that holds them."""


@pytest.fixture
async def seeded(cached_db: Database) -> Database:
    """The cached database with an onboarded guild, a snippet and a case, so calls get past not-found."""
    await cached_db.guild_setup.onboard(GUILD)
    await cached_db.snippet_service.create(GUILD, SNIPPET, "text", 1001)
    await cached_db.moderation.warn_user(GUILD, 1001, "seed", 1002)
    return cached_db


async def assert_stored_verbatim(db: Database, method: Method, kwargs: dict[str, Any], result: Any) -> None:
    """Read the written row back through a fresh session and compare each stored text argument."""
    columns = STORED.get((method.owner, method.name), {})
    instance = result[0] if isinstance(result, tuple) else result
    if not columns or not isinstance(instance, Base):
        return
    async with AsyncSession(db.client.engine) as session:
        found = await session.get(type(instance), inspect_orm(instance).identity)
    assert found is not None, f"{method}: accepted but the row is gone"
    for param, column in columns.items():
        assert getattr(found, column) == kwargs[param], (
            f"{method}: {param} stored as {getattr(found, column)!r}"
        )


def test_the_catalogue_covers_every_repository_and_service(tmp_path: Path) -> None:
    """A repository or service added to ``Database``, or a method added to one, joins the catalogue."""
    from tux.database import Database

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite3'}")
    seen: set[int] = set()
    offered = set()
    built_on_use = [name for name, member in vars(Database).items() if isinstance(member, cached_property)]
    for name in [*vars(db), *built_on_use]:  # an alias (db.moderation for db.moderation_service) counts once
        value = getattr(db, name)
        served = isinstance(value, IRepository) or type(value).__module__.startswith("tux.database.services")
        if served and id(value) not in seen:
            seen.add(id(value))
            offered.add(name)
    assert offered | {"levels_activity"} == set(OWNERS)
    listed = {(method.owner, method.name) for method in METHODS}
    for owner in OWNERS:
        instance = owner_object(db, owner)
        names = {name for name in dir(instance) if not name.startswith("_")}
        coroutines = {name for name in names if inspect.iscoroutinefunction(getattr(instance, name))}
        assert {name for name in coroutines if (owner, name) not in listed} <= GENERIC, owner
    assert set(STORED) <= listed


@pytest.mark.parametrize("owner", sorted(OWNERS))
@HOSTILE
@given(data=st.data())
async def test_methods_answer_store_verbatim_or_refuse(
    seeded: Database, owner: str, data: st.DataObject
) -> None:
    db = seeded
    method = data.draw(
        st.sampled_from([method for method in METHODS if method.owner == owner]), label="method"
    )
    names = [param.name for param in method.params]
    chosen = data.draw(st.sets(st.sampled_from(names), min_size=1, max_size=2), label="hostile")
    kwargs = {
        param.name: data.draw(hostile(method, param), label=param.name)
        if param.name in chosen
        else baseline(method, param)
        for param in method.params
    }
    outcome = await judge(db, f"{method}(**{kwargs!r})", lambda: method.bound(db)(**kwargs))
    if not outcome.refused:
        await assert_stored_verbatim(db, method, kwargs, outcome.result)


async def test_cached_lookups_refuse_text_no_level_can_store(seeded: Database) -> None:
    """A lone surrogate in a cached lookup's key is refused before any level (Redis) sees the key."""
    for name in ("\ud800", "ok\udfffok", "x" * 300 + "\udc80"):
        outcome = await judge(
            seeded, f"find_by_name({name!r})", lambda name=name: seeded.snippets.find_by_name(GUILD, name)
        )
        assert isinstance(outcome.error, ValidationError), outcome
