"""Payload validation alone (no database): every column of every model against hostile values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.hostile.values import HOSTILE, SURROGATES, hostile_for, texts
from tux.database.exceptions import ValidationError
from tux.database.models import Base
from tux.database.repositories.validation import ColumnSpec, column_specs, validate_payload

COLUMNS: list[tuple[type[Any], ColumnSpec]] = [
    (mapper.class_, spec)
    for mapper in sorted(Base.registry.mappers, key=lambda mapper: mapper.class_.__name__)
    for spec in column_specs(mapper.class_).values()
]
"""Every column of every model, in a fixed order (test ids must match across xdist workers)."""
TEXT_COLUMNS = [(model, spec) for model, spec in COLUMNS if spec.kind == "str"]
INT_COLUMNS = [(model, spec) for model, spec in COLUMNS if spec.kind == "int"]


@HOSTILE
@given(column=st.sampled_from(TEXT_COLUMNS), data=st.data())
def test_text_is_kept_verbatim_or_refused(column: tuple[type[Any], ColumnSpec], data: st.DataObject) -> None:
    model, spec = column
    value = data.draw(texts(spec.max_length))
    try:
        clean = validate_payload(model, {spec.name: value}, partial=True)
    except ValidationError:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return
        too_long = spec.max_length is not None and len(value) > spec.max_length
        assert "\x00" in value or too_long, f"{spec.name}: {value!r} refused"
    else:
        assert clean[spec.name] is value


def surrogate_id(surrogate: str) -> str:
    return f"U+{ord(surrogate):04X}"


@pytest.mark.parametrize("surrogate", SURROGATES, ids=surrogate_id)
@pytest.mark.parametrize(
    ("model", "spec"), TEXT_COLUMNS, ids=[f"{model.__name__}.{spec.name}" for model, spec in TEXT_COLUMNS]
)
def test_lone_surrogates_are_refused(model: type[Any], spec: ColumnSpec, surrogate: str) -> None:
    with pytest.raises(ValidationError, match="not valid Unicode"):
        validate_payload(model, {spec.name: f"ok{surrogate}ok"}, partial=True)


@pytest.mark.parametrize("surrogate", SURROGATES, ids=surrogate_id)
def test_lone_surrogates_in_json_are_refused(surrogate: str) -> None:
    json_columns = [(model, spec) for model, spec in COLUMNS if spec.kind == "json"]
    assert json_columns
    for model, spec in json_columns:
        for value in ({"k": surrogate}, {surrogate: 1}, [[surrogate]]):
            with pytest.raises(ValidationError, match="not valid Unicode"):
                validate_payload(model, {spec.name: value}, partial=True)


@HOSTILE
@given(column=st.sampled_from(INT_COLUMNS), data=st.data())
def test_integers_fit_their_column(column: tuple[type[Any], ColumnSpec], data: st.DataObject) -> None:
    """``INTEGER`` columns take 32 bits on PostgreSQL; SQLite would take 64, so both refuse more."""
    model, spec = column
    value = data.draw(hostile_for("int"))
    bound = 2 ** (spec.int_bits - 1)
    fits = (type(value) is int and -bound <= value < bound) or (value is None and spec.nullable)
    try:
        clean = validate_payload(model, {spec.name: value}, partial=True)
    except ValidationError:
        assert not fits, f"{spec.name}: {value!r} refused"
    else:
        assert fits, f"{spec.name}: {value!r} accepted"
        assert clean[spec.name] == value
