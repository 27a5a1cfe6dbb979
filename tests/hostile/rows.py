"""Valid baseline rows for every repository's model, derived from its columns."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect
from sqlalchemy.sql.schema import Column

from tests.hostile.harness import FRESH_IDS
from tests.hostile.values import NOW
from tux.database.repositories.validation import ColumnSpec, column_specs

_BASELINE_BY_KIND: dict[str, object] = {
    "str": "x",
    "float": 1.0,
    "bool": False,
    "datetime": NOW,
    "json": {},
}

_TABLE_RULES: dict[str, dict[str, object]] = {"snippet": {"snippet_content": "x"}}
"""Values a table's CHECK constraints need beyond its required columns (a snippet: content or alias)."""


def _references_guild(column: Column[Any]) -> bool:
    return any(key.target_fullname == "guild.id" for key in column.foreign_keys)


def _baseline(spec: ColumnSpec, column: Column[Any], guild_id: int) -> object:
    if _references_guild(column):
        return guild_id
    if spec.kind == "int":
        return next(FRESH_IDS) if column.primary_key else 1
    if spec.kind == "enum":
        assert spec.enum_class is not None
        return next(iter(spec.enum_class))
    return _BASELINE_BY_KIND[spec.kind]


def baseline_row(model: type[Any], guild_id: int) -> dict[str, object]:
    """A valid row of ``model`` in guild ``guild_id`` (fresh keys), with its required fields only."""
    mapper = inspect(model)
    row: dict[str, object] = {}
    for name, spec in column_specs(model).items():
        column = mapper.columns[name]
        key_without_default = column.primary_key and column.table.autoincrement_column is not column
        if spec.required or key_without_default:
            row[name] = _baseline(spec, column, guild_id)
    return {**row, **_TABLE_RULES.get(mapper.local_table.name, {})}
