"""The filter language of ``find_all``: real column names and a small, documented set of operators.

``field=value`` is equality; ``field__op=value`` applies an operator:

========== ===============================
``ne``     not equal
``in``     value in a non-empty collection
``not_in`` value not in a collection
``gt``     greater than
``gte``    greater than or equal
``lt``     less than
``lte``    less than or equal
``isnull`` ``True``: IS NULL, ``False``: IS NOT NULL
========== ===============================

Ordering is ``order_by="field"`` or ``"-field"`` (descending), or a sequence of those. Anything else
raises :class:`~tux.database.exceptions.UnknownFieldError` before a statement is built, and every value
becomes a bound parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, UnaryExpression
from sqlalchemy.orm import InstrumentedAttribute

from tux.database.core.ids import INT64_MAX
from tux.database.exceptions import UnknownFieldError, ValidationError
from tux.database.repositories.validation import coerce_value, field_spec

MAX_IN_VALUES = 10_000

_COMPARISONS: dict[str, Callable[[InstrumentedAttribute[Any], Any], ColumnElement[bool]]] = {
    "eq": lambda column, value: column == value,
    "ne": lambda column, value: column != value,
    "gt": lambda column, value: column > value,
    "gte": lambda column, value: column >= value,
    "lt": lambda column, value: column < value,
    "lte": lambda column, value: column <= value,
}
OPERATORS = frozenset({*_COMPARISONS, "in", "not_in", "isnull"})
_EQUALITY = frozenset({"eq", "ne"})


def _split(key: str) -> tuple[str, str]:
    name, separator, operator = key.partition("__")
    if not separator:
        return name, "eq"
    if operator not in OPERATORS:
        raise UnknownFieldError(
            f"unknown filter operator {operator!r} in {key!r}; use one of {sorted(OPERATORS)}"
        )
    return name, operator


def _collection(key: str, value: object) -> list[object]:
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise ValidationError(f"{key}: expected a list, tuple or set of values")
    items = list(value)
    if len(items) > MAX_IN_VALUES:
        raise ValidationError(f"{key}: at most {MAX_IN_VALUES} values are allowed")
    return items


def _clause(model: type[Any], key: str, value: object) -> ColumnElement[bool]:
    name, operator = _split(key)
    spec = field_spec(model, name)
    column: InstrumentedAttribute[Any] = getattr(model, name)
    if operator == "isnull":
        if not isinstance(value, bool):
            raise ValidationError(f"{key}: expected True or False")
        return column.is_(None) if value else column.is_not(None)
    if operator in ("in", "not_in"):
        values = [coerce_value(spec, item) for item in _collection(key, value)]
        return column.in_(values) if operator == "in" else column.not_in(values)
    if value is None:
        raise ValidationError(f"{key}: use {name}__isnull=True to match NULL")
    if spec.kind == "bool" and operator not in _EQUALITY:
        raise ValidationError(f"{key}: a true/false field is compared with eq, ne, in or isnull only")
    return _COMPARISONS[operator](column, coerce_value(spec, value))


def build_where(model: type[Any], filters: Mapping[str, object]) -> list[ColumnElement[bool]]:
    """Return the WHERE clauses for ``filters`` on ``model``."""
    return [_clause(model, key, value) for key, value in filters.items()]


def build_order_by(model: type[Any], order_by: str | Sequence[str] | None) -> list[UnaryExpression[Any]]:
    """Return ORDER BY clauses for ``order_by`` (``"field"`` or ``"-field"``)."""
    if order_by is None:
        return []
    fields = [order_by] if isinstance(order_by, str) else list(order_by)
    clauses: list[UnaryExpression[Any]] = []
    for item in fields:
        if not isinstance(item, str):
            raise ValidationError("order_by takes field names")
        descending = item.startswith("-")
        name = item.removeprefix("-")
        field_spec(model, name)
        column: InstrumentedAttribute[Any] = getattr(model, name)
        clauses.append(column.desc() if descending else column.asc())
    return clauses


def check_window(limit: int | None, offset: int | None) -> None:
    """Reject a negative, non-integer or wider than 64-bit ``limit`` / ``offset``."""
    for label, value in (("limit", limit), ("offset", offset)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX
        ):
            raise ValidationError(f"{label} must be a non-negative 64-bit integer")
