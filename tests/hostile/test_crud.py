"""Generic repository operations under hostile payloads and filters, every repository, both backends.

A write either raises one of the project's errors with nothing written, or stores every given value
verbatim: read back through a fresh session (not the cache) it equals what was passed, and an
equality filter on stored text finds the row again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hypothesis import assume, given
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession

from tests.hostile.harness import FRESH_IDS, REPOSITORIES, judge, key_fields
from tests.hostile.rows import baseline_row
from tests.hostile.values import EMOJI, HOSTILE, RTL, filter_keys, hostile_for, texts, wrong_types
from tux.database.exceptions import CheckViolationError, ValidationError
from tux.database.repositories.validation import ColumnSpec, coerce_value, column_specs

if TYPE_CHECKING:
    from tux.database import Database

NAMES = sorted(REPOSITORIES)


def value_for(spec: ColumnSpec) -> st.SearchStrategy[object]:
    """Hostile values for column ``spec`` (enum columns also get their members' names and values)."""
    if spec.kind == "enum":
        assert spec.enum_class is not None
        members = list(spec.enum_class)
        named = [member.name for member in members] + [member.value for member in members]
        return st.one_of(st.sampled_from(members), st.sampled_from(named), texts(), wrong_types())
    return hostile_for(spec.kind, spec.max_length)


async def stored(db: Database, name: str, identity: dict[str, object]) -> Any:
    """The row of repository ``name`` with ``identity``, read by a fresh session (no cache)."""
    async with AsyncSession(db.client.engine) as session:
        return await session.get(REPOSITORIES[name].model, identity)


def identity_of(name: str, row: dict[str, object], instance: object) -> dict[str, object]:
    return {field: row.get(field, getattr(instance, field, None)) for field in key_fields(name)}


def draw_repository(db: Database, data: st.DataObject) -> tuple[str, Any, Mapping[str, ColumnSpec]]:
    """Draw a repository: its name, the ``Database``'s instance and its model's columns."""
    name = data.draw(st.sampled_from(NAMES), label="repository")
    return name, getattr(db, name), column_specs(REPOSITORIES[name].model)


async def fresh_guild(db: Database) -> int:
    guild_id = next(FRESH_IDS)
    await db.guilds.ensure(guild_id)
    return guild_id


@HOSTILE
@given(data=st.data())
async def test_writes_store_verbatim_or_refuse(cached_db: Database, data: st.DataObject) -> None:
    db = cached_db
    name, repository, specs = draw_repository(db, data)
    model = REPOSITORIES[name].model
    operation = data.draw(st.sampled_from(("create", "update", "upsert")), label="operation")
    field = data.draw(st.sampled_from(sorted(specs)), label="field")
    value = data.draw(value_for(specs[field]), label="value")
    row = baseline_row(model, await fresh_guild(db))
    label = f"{name}.{operation}({field}={value!r})"

    if operation == "create":
        payload = {**row, field: value}
        outcome = await judge(db, label, lambda: repository.create(payload))
    elif operation == "upsert":
        assume(hasattr(repository, "upsert"))
        payload = {**row, field: value}
        outcome = await judge(db, label, lambda: repository.upsert(payload))
    else:
        instance = await repository.create(row)
        identity = identity_of(name, row, instance)
        key = tuple(identity.values())
        payload = {field: value}
        outcome = await judge(db, label, lambda: repository.update(key[0] if len(key) == 1 else key, payload))
        row = {**{f: getattr(instance, f) for f in specs}, **payload}
    if outcome.refused or outcome.result is None:
        return
    row = {**row, **payload}
    found = await stored(db, name, identity_of(name, row, outcome.result))
    assert found is not None, f"{label}: accepted but no row"
    for given_field, given_value in payload.items():
        expected = coerce_value(specs[given_field], given_value)
        assert getattr(found, given_field) == expected, f"{label}: stored {getattr(found, given_field)!r}"
    if specs[field].kind == "str" and specs[field].nullable is False:
        assert await repository.count(**{field: value}) >= 1, f"{label}: equality filter misses the row"


@HOSTILE
@given(data=st.data())
async def test_filters_answer_or_refuse(cached_db: Database, data: st.DataObject) -> None:
    db = cached_db
    name, repository, specs = draw_repository(db, data)
    filters: dict[str, object] = {}
    for _ in range(data.draw(st.integers(1, 3), label="filter count")):
        key = data.draw(filter_keys(tuple(specs)), label="key")
        field, _, operator = key.partition("__")
        spec = specs.get(field)
        single = value_for(spec) if spec is not None else st.one_of(texts(), wrong_types())
        if operator in ("in", "not_in"):
            value: object = data.draw(st.one_of(st.lists(single, max_size=4), single), label="values")
        else:
            value = data.draw(single, label="value")
        filters[key] = value
    order_by = data.draw(
        st.one_of(st.none(), st.sampled_from(sorted(specs)), texts(), st.lists(texts(), max_size=2)),
        label="order_by",
    )
    method = data.draw(st.sampled_from(("find_all", "count", "exists")), label="method")
    label = f"{name}.{method}(order_by={order_by!r}, **{filters!r})"
    if method == "find_all":
        outcome = await judge(db, label, lambda: repository.find_all(order_by=order_by, **filters))
        assert outcome.refused or isinstance(outcome.result, list), label
    else:
        outcome = await judge(db, label, lambda: getattr(repository, method)(**filters))
        assert outcome.refused or isinstance(outcome.result, (int, bool)), label


@HOSTILE
@given(data=st.data())
async def test_ids_answer_or_refuse(cached_db: Database, data: st.DataObject) -> None:
    db = cached_db
    name = data.draw(st.sampled_from(NAMES), label="repository")
    fields = key_fields(name)
    specs = column_specs(REPOSITORIES[name].model)
    parts = [data.draw(value_for(specs[field]), label=field) for field in fields]
    identity = parts[0] if len(parts) == 1 and data.draw(st.booleans()) else tuple(parts)
    method = data.draw(st.sampled_from(("find_by_id", "delete", "update")), label="method")
    repository = getattr(db, name)
    label = f"{name}.{method}({identity!r})"
    if method == "update":
        outcome = await judge(db, label, lambda: repository.update(identity, {fields[-1]: parts[-1]}))
    else:
        outcome = await judge(db, label, lambda: getattr(repository, method)(identity))
    assert outcome.refused or outcome.result in (None, False), f"{label}: found {outcome.result!r}"


async def test_baseline_rows_are_valid(db: Database) -> None:
    """The rows the properties start from are accepted everywhere (else every example is a refusal)."""
    for name, implementation in REPOSITORIES.items():
        row = baseline_row(implementation.model, await fresh_guild(db))
        instance = await getattr(db, name).create(row)
        assert await stored(db, name, identity_of(name, row, instance)) is not None, name


def fixed_texts(spec: ColumnSpec) -> dict[str, tuple[str, bool]]:
    """One value of each hostile family for column ``spec``, and whether validation must refuse it."""
    limit = spec.max_length or 4000
    accepted = {
        "sql": "'; DROP TABLE guild; --",
        "quotes": "'\"`\u2019",
        "emoji": EMOJI[1],
        "rtl": RTL[1] + RTL[0] + "abc",
        "at the limit, multi-byte": "\U0001f600" * limit,
    }
    refused = {"NUL": "a\x00b", "lone surrogate": "a\ud800b", "past the limit": "x" * (limit + 1)}
    return {
        **{family: (value[:limit], False) for family, value in accepted.items()},
        **{family: (value, True) for family, value in refused.items()},
    }


async def test_every_text_field_takes_each_hostile_family(db: Database) -> None:
    """Deterministic companion of the properties: every text column, every family, both backends."""
    for name, implementation in REPOSITORIES.items():
        specs = column_specs(implementation.model)
        for field, spec in specs.items():
            if spec.kind != "str":
                continue
            for family, (value, refused) in fixed_texts(spec).items():
                row = {**baseline_row(implementation.model, await fresh_guild(db)), field: value}
                label = f"{name}.create({field}={family})"
                repository = getattr(db, name)
                outcome = await judge(db, label, lambda row=row, to=repository: to.create(row))
                if refused:
                    assert isinstance(outcome.error, ValidationError), f"{label}: {outcome!r}"
                    continue
                if outcome.refused:  # a CHECK constraint of the column (e.g. a length floor)
                    assert isinstance(outcome.error, CheckViolationError), f"{label}: {outcome.error!r}"
                    continue
                found = await stored(db, name, identity_of(name, row, outcome.result))
                assert getattr(found, field) == value, f"{label}: stored {getattr(found, field)!r}"
                assert await repository.count(**{field: value}) >= 1, label


async def test_batch_writes_refuse_what_a_single_create_refuses(db: Database) -> None:
    """The bulk path's column-at-a-time fast check keeps the row-by-row rules (surrogates, int width)."""
    guild_id = await fresh_guild(db)
    good = [{**baseline_row(REPOSITORIES["cases"].model, guild_id), "case_number": n} for n in (1, 2, 3)]
    hostile = {
        "lone surrogate": {"case_reason": "spam \ud800"},
        "NUL": {"case_reason": "spam \x00"},
        "past 64 bits": {"case_user_id": 2**63},
    }
    for label, change in hostile.items():
        rows = [*good[:2], {**good[2], **change}]
        outcome = await judge(
            db, f"batch_create({label})", lambda rows=rows: db.batch.batch_create(db.cases, rows)
        )
        assert isinstance(outcome.error, ValidationError), f"{label}: {outcome!r}"
    guild = baseline_row(REPOSITORIES["guilds"].model, guild_id)
    counters = [{**guild, "id": next(FRESH_IDS), "case_count": 2**31}]
    outcome = await judge(
        db, "batch_create(int32 overflow)", lambda: db.batch.batch_create(db.guilds, counters)
    )
    assert isinstance(outcome.error, ValidationError), outcome
