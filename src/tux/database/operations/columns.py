"""Rows checked a column at a time, for the bulk paths that hand tuples to the driver.

Checking 10,000 rows one value at a time costs more than SQLite takes to store them. The rules are
those of :func:`~tux.database.repositories.validation.coerce_value` (the check a single ``create``
runs); this module only answers the common case faster: when every value of a column has the plain
type the column wants and fits its limits (checked over the whole column with C-level builtins:
``set(map(type, ...))``, ``min``, ``max``, ``str.join``), ``coerce_value`` would return each value
unchanged, so the column is taken as it is. Any other column goes through ``coerce_value`` value by
value, and any refusal is reported by re-checking the rows one by one with ``validate_payload``, so
the error and its row index are exactly those of the row-by-row check.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.engine import Dialect

from tux.database.exceptions import ValidationError
from tux.database.operations.rows import BatchValidationError, Row, client_defaults
from tux.database.repositories.validation import (
    ColumnSpec,
    coerce_value,
    column_specs,
    field_spec,
    text_problem,
    validate_payload,
)


@dataclass(frozen=True, slots=True)
class Group:
    """Checked rows that set the same fields, held column by column.

    ``positions`` are the rows' indexes in the items given, ``values`` one list per field of ``given``.
    """

    given: tuple[str, ...]
    positions: list[int]
    values: list[list[object]]

    def column(self, name: str) -> list[object]:
        """The checked values of field ``name``."""
        return self.values[self.given.index(name)]

    def rows(self) -> list[Row]:
        """The rows as dictionaries (what the SQLAlchemy paths take)."""
        return [dict(zip(self.given, record, strict=True)) for record in zip(*self.values, strict=True)]


def check_groups(model: type[Any], items: Iterable[Mapping[str, object]]) -> list[Group]:
    """Return ``items`` checked for an insert into ``model``, grouped by the fields they set.

    Raises
    ------
    BatchValidationError
        For the first row (lowest index) a single ``create`` would refuse.
    """
    given: list[Any] = list(items)
    try:
        return [_group(model, names, positions, rows) for names, (positions, rows) in _by_fields(given)]
    except ValidationError:
        _raise_first_refusal(model, given)
        raise


def _by_fields(given: list[Any]) -> list[tuple[tuple[str, ...], tuple[list[int], list[Any]]]]:
    """Group the items by the fields they set; one pass at C speed when they all set the same ones."""
    if set(map(type, given)) - {dict}:
        for item in given:
            if not isinstance(item, Mapping):
                raise ValidationError(f"expected a mapping of field values, got {type(item).__name__}")
    field_sets = set(map(tuple, given))
    if len(field_sets) == 1:
        return [(field_sets.pop(), (list(range(len(given))), given))]
    members: dict[tuple[str, ...], tuple[list[int], list[Any]]] = {}
    for index, item in enumerate(given):
        positions, rows = members.setdefault(tuple(item), ([], []))
        positions.append(index)
        rows.append(item)
    return list(members.items())


def rows_in_order(groups: Sequence[Group], count: int) -> list[Row]:
    """The checked rows of ``groups`` as dictionaries, in the order the items were given."""
    ordered: list[Row] = [{}] * count
    for group in groups:
        for position, row in zip(group.positions, group.rows(), strict=True):
            ordered[position] = row
    return ordered


def _group(
    model: type[Any], names: tuple[str, ...], positions: list[int], rows: list[Mapping[str, object]]
) -> Group:
    specs = [field_spec(model, name) for name in names]
    missing = [spec.name for spec in column_specs(model).values() if spec.required and spec.name not in names]
    if missing:
        raise ValidationError(f"{model.__name__}: missing required field(s) {', '.join(sorted(missing))}")
    values = [_checked_column(spec, list(map(itemgetter(spec.name), rows))) for spec in specs]
    return Group(names, positions, values)


def _checked_column(spec: ColumnSpec, values: list[object]) -> list[object]:
    types = set(map(type, values))
    if len(types) == 1 and _plain(spec, types.pop(), values):
        return values
    return [coerce_value(spec, value) for value in values]


def _plain(spec: ColumnSpec, kind: type, values: list[Any]) -> bool:
    """Whether ``coerce_value`` would return every value of the column (all of type ``kind``) unchanged."""
    match spec.kind:
        case "int" if kind is int:
            bound = 2 ** (spec.int_bits - 1)
            return bool(min(values) >= -bound and max(values) < bound)
        case "float" if kind is float:
            return all(map(math.isfinite, values))
        case "bool" if kind is bool:
            return True
        case "str" if kind is str:
            short = spec.max_length is None or max(map(len, values)) <= spec.max_length
            return short and text_problem("".join(values)) is None
        case _:
            return False


def _raise_first_refusal(model: type[Any], items: list[Any]) -> None:
    for index, item in enumerate(items):
        try:
            validate_payload(model, item, partial=False)
        except ValidationError as error:
            raise BatchValidationError(index, error) from error


@dataclass(frozen=True, slots=True)
class DriverRows:
    """A group's rows as the driver takes them: column names and one tuple per row."""

    columns: tuple[str, ...]
    records: list[tuple[object, ...]]


def driver_rows(table: Table, groups: Sequence[Group], count: int, dialect: Dialect) -> DriverRows | None:
    """Return the rows of ``groups`` as one set of columns, in the order given, bind-processed.

    A column a row leaves out gets what the database would have given it: its Python default (as
    SQLAlchemy adds it), or NULL. Returns ``None`` when a row leaves out a column only the database can
    fill (a server default, a generated key): those rows need a statement without that column.
    """
    columns = _union(table, groups)
    processors = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns}
    records: list[tuple[object, ...]] = [()] * count
    for group in groups:
        filled: list[list[object]] = []
        for name in columns:
            values = _column_values(table.c[name], group, processors[name])
            if values is None:
                return None
            filled.append(values)
        if len(groups) == 1:
            return DriverRows(columns, list(zip(*filled, strict=True)))
        for position, record in zip(group.positions, zip(*filled, strict=True), strict=True):
            records[position] = record
    return DriverRows(columns, records)


def _union(table: Table, groups: Sequence[Group]) -> tuple[str, ...]:
    names: dict[str, None] = {}
    for group in groups:
        names.update(dict.fromkeys(group.given))
    names.update(dict.fromkeys(name for name, _ in client_defaults(table)))
    return tuple(names)


def _column_values(
    column: Column[Any], group: Group, process: Callable[[Any], Any] | None
) -> list[object] | None:
    count = len(group.positions)
    if column.key in group.given:
        values = group.column(column.key)
        return values if process is None else list(map(process, values))
    default = column.default
    if default is not None and default.is_scalar:
        value = default.arg  # type: ignore[attr-defined]  # a scalar default has it
        return [value if process is None else process(value)] * count
    if default is not None and default.is_callable:
        make = default.arg  # type: ignore[attr-defined]  # a callable default has it
        values = [make(None) for _ in range(count)]
        return values if process is None else list(map(process, values))
    fills_itself = column.server_default is not None or column.table.autoincrement_column is column
    return None if fills_itself else [None] * count
