"""Checks a write payload against a model's columns before any SQL is built.

Unknown fields, wrong types, oversized or NUL-bearing text, text UTF-8 cannot encode (lone surrogates),
naive datetimes and integers too wide for their column raise
:class:`~tux.database.exceptions.ValidationError` here, so a hostile or mistaken input never
reaches the driver and never half-writes a row.
"""

from __future__ import annotations

import enum
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    Float,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    inspect,
)
from sqlalchemy.orm import ColumnProperty
from sqlalchemy.sql.schema import Column
from sqlalchemy.types import TypeDecorator, TypeEngine

from tux.database.exceptions import UnknownFieldError, ValidationError


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """What a column accepts, derived once per model from its SQLAlchemy definition."""

    name: str
    kind: str
    nullable: bool
    required: bool
    max_length: int | None = None
    enum_class: type[enum.Enum] | None = None
    int_bits: int = 64
    """Width of an integer column: PostgreSQL's ``INTEGER`` is 32 bits, where SQLite would store 64."""


def _base_type(sa_type: TypeEngine[Any]) -> TypeEngine[Any]:
    if isinstance(sa_type, TypeDecorator):
        return _base_type(sa_type.impl_instance)
    return sa_type


def _kind_of(column: Column[Any]) -> tuple[str, int | None, type[enum.Enum] | None]:
    sa_type = _base_type(column.type)
    if isinstance(sa_type, Enum):
        return "enum", None, sa_type.enum_class
    if isinstance(sa_type, Boolean):
        return "bool", None, None
    if isinstance(sa_type, Integer):
        return "int", None, None
    if isinstance(sa_type, Float):
        return "float", None, None
    if isinstance(sa_type, String):
        return "str", sa_type.length, None
    if isinstance(sa_type, LargeBinary):
        return "bytes", None, None
    if isinstance(sa_type, JSON):
        return "json", None, None
    if sa_type.python_type is datetime:
        return "datetime", None, None
    raise NotImplementedError(f"no validation rule for column type {sa_type!r}")


def _int_bits(sa_type: TypeEngine[Any]) -> int:
    if isinstance(sa_type, BigInteger):
        return 64
    if isinstance(sa_type, SmallInteger):
        return 16
    return 32 if isinstance(sa_type, Integer) else 64


def _spec_of(column: Column[Any]) -> ColumnSpec:
    kind, max_length, enum_class = _kind_of(column)
    generated = column.table.autoincrement_column is column
    has_default = column.default is not None or column.server_default is not None or generated
    return ColumnSpec(
        name=column.key,
        kind=kind,
        nullable=bool(column.nullable),
        required=not column.nullable and not has_default,
        max_length=max_length,
        enum_class=enum_class,
        int_bits=_int_bits(_base_type(column.type)),
    )


_SPECS: dict[type[Any], Mapping[str, ColumnSpec]] = {}


def column_specs(model: type[Any]) -> Mapping[str, ColumnSpec]:
    """Return the accepted columns of ``model`` keyed by attribute name (computed once per model)."""
    specs = _SPECS.get(model)
    if specs is None:
        specs = _SPECS[model] = {
            prop.key: _spec_of(prop.columns[0])
            for prop in inspect(model).attrs
            if isinstance(prop, ColumnProperty)
            and len(prop.columns) == 1
            and isinstance(prop.columns[0], Column)
        }
    return specs


def text_problem(value: str) -> str | None:
    """Say why ``value`` cannot be stored as text on both backends, or return ``None``.

    PostgreSQL refuses NUL in text and JSON; a lone surrogate (e.g. from ``surrogateescape`` decoding)
    has no UTF-8 form, so both drivers would fail while encoding it, after the transaction began.
    """
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            return f"is not valid Unicode (unpaired surrogate at position {error.start})"
    return None


def _check_str(spec: ColumnSpec, value: str) -> str:
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(f"{spec.name}: text {problem}")
    if spec.max_length is not None and len(value) > spec.max_length:
        raise ValidationError(
            f"{spec.name}: text of {len(value)} characters exceeds the limit of {spec.max_length}"
        )
    return value


def _check_int(spec: ColumnSpec, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"{spec.name}: expected an integer, got {type(value).__name__}")
    bound = 2 ** (spec.int_bits - 1)
    if not -bound <= value < bound:
        raise ValidationError(f"{spec.name}: integer {value} does not fit in {spec.int_bits} bits")
    return value


def _check_float(spec: ColumnSpec, value: float) -> float:
    try:
        number = float(value)
    except OverflowError:
        raise ValidationError(f"{spec.name}: {value!r} is too large") from None
    if not math.isfinite(number):
        raise ValidationError(f"{spec.name}: expected a finite number, got {value!r}")
    return number


def _json_text_problem(value: object) -> str | None:
    if isinstance(value, str):
        return text_problem(value)
    items: list[object] = []
    if isinstance(value, dict):
        items = [part for pair in value.items() for part in pair]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    for item in items:
        problem = _json_text_problem(item)
        if problem is not None:
            return problem
    return None


def _check_json(spec: ColumnSpec, value: dict[Any, Any] | list[Any]) -> dict[Any, Any] | list[Any]:
    """Refuse what the driver could not encode or PostgreSQL's JSONB would reject (NaN, NUL, surrogates)."""
    try:
        json.dumps(value, allow_nan=False)
        problem = _json_text_problem(value)
    except (TypeError, ValueError, RecursionError) as error:
        raise ValidationError(f"{spec.name}: value is not valid JSON ({error})") from None
    if problem is not None:
        raise ValidationError(f"{spec.name}: JSON text {problem}")
    return value


def _check_enum(spec: ColumnSpec, value: object) -> enum.Enum:
    assert spec.enum_class is not None
    if isinstance(value, spec.enum_class):
        return value
    try:
        return spec.enum_class(value)
    except ValueError:
        try:
            return spec.enum_class[str(value)]
        except KeyError:
            allowed = ", ".join(member.name for member in spec.enum_class)
            raise ValidationError(f"{spec.name}: {value!r} is not one of {allowed}") from None


def coerce_value(spec: ColumnSpec, value: object) -> object:
    """Return ``value`` checked (and, for enums, converted) for the column ``spec``."""
    if value is None:
        if not spec.nullable:
            raise ValidationError(f"{spec.name}: may not be null")
        return None
    match spec.kind:
        case "int":
            return _check_int(spec, value)
        case "str" if isinstance(value, str):
            return _check_str(spec, value)
        case "bool" if isinstance(value, bool):
            return value
        case "float" if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _check_float(spec, value)
        case "datetime" if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValidationError(f"{spec.name}: naive datetime; pass an aware (UTC) datetime")
            return value
        case "enum":
            return _check_enum(spec, value)
        case "json" if isinstance(value, (dict, list)):
            return _check_json(spec, value)
        case "bytes" if isinstance(value, (bytes, bytearray, memoryview)):
            return bytes(value)
        case _:
            raise ValidationError(f"{spec.name}: expected {spec.kind}, got {type(value).__name__}")


def field_spec(model: type[Any], name: str) -> ColumnSpec:
    """Return the spec of column ``name`` or raise :class:`UnknownFieldError`."""
    spec = column_specs(model).get(name)
    if spec is None:
        raise UnknownFieldError(f"{model.__name__} has no field {name!r}")
    return spec


def require_mapping(data: object) -> Mapping[str, object]:
    """Return ``data`` if it is a mapping of field values (a caller may have passed anything)."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"expected a mapping of field values, got {type(data).__name__}")
    return data


def validate_payload(model: type[Any], data: Mapping[str, object], *, partial: bool) -> dict[str, object]:
    """Return ``data`` validated for ``model``.

    Parameters
    ----------
    model
        The mapped class written to.
    data
        Column values keyed by attribute name.
    partial
        ``True`` for updates (only given fields are checked), ``False`` for inserts (required fields
        must be present).
    """
    clean = {
        name: coerce_value(field_spec(model, name), value) for name, value in require_mapping(data).items()
    }
    if not partial:
        missing = [
            spec.name for spec in column_specs(model).values() if spec.required and spec.name not in clean
        ]
        if missing:
            raise ValidationError(f"{model.__name__}: missing required field(s) {', '.join(sorted(missing))}")
    return clean
