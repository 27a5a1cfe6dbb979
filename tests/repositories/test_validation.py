"""Payload validation that needs no database: every rejection is the project's ValidationError."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from tux.database.exceptions import UnknownFieldError, ValidationError
from tux.database.models import Case, Levels
from tux.database.repositories.validation import validate_payload


@pytest.mark.parametrize("xp", [math.nan, math.inf, -math.inf, 10**400])
def test_non_finite_floats_are_refused(xp: float) -> None:
    with pytest.raises(ValidationError, match="xp"):
        validate_payload(Levels, {"xp": xp}, partial=True)


def test_ints_become_floats_for_float_columns() -> None:
    assert validate_payload(Levels, {"xp": 3}, partial=True) == {"xp": 3.0}


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"case_reason": "x" * 2001}, ValidationError),
        ({"case_reason": "nul\x00byte"}, ValidationError),
        ({"case_number": True}, ValidationError),
        ({"case_number": "1"}, ValidationError),
        ({"case_user_id": 2**64}, ValidationError),
        ({"case_type": "NOT_A_TYPE"}, ValidationError),
        ({"case_expires_at": datetime(2030, 1, 1)}, ValidationError),
        ({"case_metadata": {"when": datetime.now()}}, ValidationError),
        ({"no_such_field": 1}, UnknownFieldError),
    ],
)
def test_bad_case_fields(data: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        validate_payload(Case, data, partial=True)


def test_missing_required_fields_are_named() -> None:
    with pytest.raises(ValidationError, match="case_reason"):
        validate_payload(Case, {"guild_id": 1, "case_number": 1}, partial=False)
