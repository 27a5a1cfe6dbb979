"""Every public repository and service method, with the kind of each parameter read from its type hints.

The generic repository operations (``create``, ``find_all``, ...) are left to ``test_crud``; everything
else a ``Database`` offers is listed here, so a new method is covered (or fails the catalogue test when
its parameters have a kind this module does not know) without anyone remembering to add it.
"""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

from tests.hostile.harness import GUILD, REPOSITORIES
from tests.hostile.rows import baseline_row
from tests.hostile.values import NOW, hostile_for, texts, wrong_types
from tux.database.models import AFK, CaseType, GuildConfig, MemberStatus, PermissionRank, Starboard, utcnow
from tux.database.repositories.base import SQLAlchemyRepository
from tux.database.repositories.interfaces import ILevelsActivityRepository
from tux.database.repositories.levels_activity import LevelsActivityRepository
from tux.database.repositories.validation import column_specs
from tux.database.services.afk import AfkService
from tux.database.services.guild_setup import GuildSetupService
from tux.database.services.levels import LevelsService
from tux.database.services.moderation import ModerationService
from tux.database.services.reminders import ReminderService
from tux.database.services.snippets import SnippetService

if TYPE_CHECKING:
    from tux.database import Database

OWNERS: dict[str, type[Any]] = {
    **REPOSITORIES,
    "levels_activity": LevelsActivityRepository,
    "moderation_service": ModerationService,
    "snippet_service": SnippetService,
    "levels_service": LevelsService,
    "guild_setup_service": GuildSetupService,
    "afk_service": AfkService,
    "reminder_service": ReminderService,
}
"""Where each method lives: the ``Database`` attribute and the class that implements it."""

GENERIC = frozenset(name for name in vars(SQLAlchemyRepository) if not name.startswith("_"))
PAYLOAD_MODELS: dict[str, type[Any]] = {
    "upsert_config": GuildConfig,
    "set_status": MemberStatus,
    "set_afk": AFK,
    "upsert_starboard": Starboard,
    "ensure_ranks": PermissionRank,
}
"""The model whose columns a ``Mapping`` parameter of each method carries."""

SNIPPET = "rules"
"""A snippet the seeded guild has, so name parameters reach past the not-found path."""


@dataclass(frozen=True, slots=True)
class Param:
    """A parameter: its name, its kind (``int``, ``str``, ``payload``, ...), and whether it may be omitted."""

    name: str
    kind: str
    optional: bool


@dataclass(frozen=True, slots=True)
class Method:
    """One public method of ``owner`` (a ``Database`` attribute)."""

    owner: str
    name: str
    params: tuple[Param, ...]

    def __str__(self) -> str:
        return f"{self.owner}.{self.name}"

    def bound(self, db: Database) -> Any:
        """The method as the ``Database`` hands it out (through the cache where there is one)."""
        return getattr(owner_object(db, self.owner), self.name)


def owner_object(db: Database, owner: str) -> Any:
    """The repository or service ``owner`` of ``db``."""
    if owner == "levels_activity":
        return db.registry.get_repository(ILevelsActivityRepository)
    return getattr(db, owner)


_SCALARS: dict[object, str] = {int: "int", str: "str", float: "float", bool: "bool", datetime: "datetime"}


def kind_of(annotation: object) -> str:
    """The kind of a parameter annotated ``annotation`` (``ValueError`` for an unknown one)."""
    origin = typing.get_origin(annotation)
    args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return kind_of(args[0])
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if origin is Mapping:
        return "payload"
    if origin is tuple and args == [float, int]:
        return "after"
    if origin is Sequence and args == [int]:
        return "ints"
    if origin is Sequence and args == [CaseType]:
        return "case_types"
    if origin is Sequence and typing.get_origin(args[0]) is Mapping:
        return "payloads"
    raise ValueError(f"no hostile values for parameters annotated {annotation!r}")


def _params(function: Any) -> tuple[Param, ...]:
    hints = typing.get_type_hints(function)
    return tuple(
        Param(name, kind_of(hints[name]), parameter.default is not inspect.Parameter.empty)
        for name, parameter in inspect.signature(function).parameters.items()
        if name != "self"
    )


def public_methods(owner: str) -> list[str]:
    """Names of the public coroutine methods of ``owner`` outside the generic repository operations."""
    implementation = OWNERS[owner]
    return sorted(
        name
        for name, function in inspect.getmembers(implementation, inspect.iscoroutinefunction)
        if not name.startswith("_") and not (owner in REPOSITORIES and name in GENERIC)
    )


def catalogue() -> list[Method]:
    """Every method of every owner with its parameters."""
    return [
        Method(owner, name, _params(getattr(OWNERS[owner], name)))
        for owner in OWNERS
        for name in public_methods(owner)
    ]


_TEXT_BASELINES = {"name": SNIPPET, "target": SNIPPET, "command_name": "ban", "prefix": "!"}
_NUMBER_BASELINES = {"limit": 10, "cooldown_seconds": 60, "delta": 1}


def baseline(method: Method, param: Param) -> object:
    """A valid value for ``param`` of ``method`` in the seeded guild."""
    in_a_day = utcnow() + timedelta(days=1)
    by_kind: dict[str, object] = {
        "str": _TEXT_BASELINES.get(param.name, "plain text"),
        "float": 1.0,
        "bool": False,
        "datetime": in_a_day if param.name in ("expires_at", "until") else NOW,
        "ints": [1001, 1002],
        "case_types": [CaseType.BAN],
        "after": None,
        "payload": baseline_row(AFK, GUILD) if method.name == "set_afk" else {},
        "payloads": [],
    }
    if param.kind == "int":
        return GUILD if param.name == "guild_id" else _NUMBER_BASELINES.get(param.name, 1001)
    return by_kind[param.kind]


def _payload(method: Method) -> st.SearchStrategy[object]:
    specs = column_specs(PAYLOAD_MODELS[method.name])
    field = st.one_of(st.sampled_from(sorted(specs)), texts())
    value = st.one_of(*(hostile_for(kind) for kind in ("str", "int", "datetime", "bool", "float")))
    extra = st.dictionaries(field, value, min_size=1, max_size=2)
    start = baseline(method, Param("data", "payload", optional=False))
    assert isinstance(start, dict)
    return st.one_of(extra.map(lambda given: {**start, **given}), wrong_types())


def hostile(method: Method, param: Param) -> st.SearchStrategy[object]:
    """Hostile values for ``param`` of ``method``."""
    if param.name == "details":
        return hostile_for("json")
    if param.kind == "payload":
        return _payload(method)
    if param.kind == "payloads":
        return st.one_of(st.lists(_payload(method), max_size=2), wrong_types())
    if param.kind == "ints":
        return st.one_of(st.lists(hostile_for("int"), max_size=3), wrong_types())
    if param.kind == "case_types":
        member = st.one_of(st.sampled_from(list(CaseType)), texts(), wrong_types())
        return st.one_of(st.lists(member, max_size=3), wrong_types())
    if param.kind == "after":
        return st.one_of(st.tuples(hostile_for("float"), hostile_for("int")), wrong_types())
    return hostile_for(param.kind)
