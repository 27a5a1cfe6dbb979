"""Discord ids and 64-bit integers, defined once for the cache keys, the cache tables and the validators.

Snowflakes are stored in signed 64-bit columns, so no larger id is ever a key or a row.
"""

from __future__ import annotations

from typing import TypeGuard

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def is_snowflake(value: object) -> TypeGuard[int]:
    """Whether ``value`` is a positive signed 64-bit ``int`` (``bool`` and other subclasses are not ids)."""
    return type(value) is int and 0 < value <= INT64_MAX
