"""Isolation of cached values from their callers, at the lowest cost each value allows.

The memory level hands the same stored object to many callers, so a caller that mutates what it got
must not change what the next caller gets. Deeply immutable values (scalars, tuples and frozensets of
them, frozen msgspec Structs and frozen dataclasses made of them) are shared as they are: that is the
fast path, and the reason repositories should cache frozen snapshots. Flat mutable containers of
immutables get a shallow copy per read; anything else a deep copy. Copies keep the exact type.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import enum
import sys
import uuid
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import msgspec

Copier = Callable[[Any], Any]

_SCALARS: frozenset[type] = frozenset(
    {
        type(None),
        bool,
        int,
        float,
        complex,
        str,
        bytes,
        Decimal,
        dt.datetime,
        dt.date,
        dt.time,
        dt.timedelta,
        uuid.UUID,
        range,
    }
)
_FLAT_COPIERS: dict[type, Copier] = {list: list.copy, dict: dict.copy, set: set.copy, bytearray: bytearray}
_MAX_DEPTH = 32


def is_deeply_immutable(value: object, depth: int = 0) -> bool:
    """Return whether nothing reachable from ``value`` can be mutated (within a sane depth)."""
    kind = type(value)
    if kind in _SCALARS:
        return True
    if depth > _MAX_DEPTH:
        return False
    if isinstance(value, msgspec.Struct):
        return value.__struct_config__.frozen and _all_immutable(msgspec.structs.astuple(value), depth)
    if isinstance(value, tuple | frozenset):
        return _all_immutable(value, depth)
    if isinstance(value, enum.Enum):
        return True
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        params = getattr(kind, "__dataclass_params__", None)
        return bool(params and params.frozen) and all(
            is_deeply_immutable(getattr(value, item.name), depth + 1) for item in dataclasses.fields(value)
        )
    return False


def _all_immutable(items: Iterable[object], depth: int) -> bool:
    for item in items:
        if type(item) not in _SCALARS and not is_deeply_immutable(item, depth + 1):
            return False
    return True


def copier_for(value: object) -> Copier | None:
    """Return how to copy ``value`` for each reader: ``None`` when it can be shared."""
    if is_deeply_immutable(value):
        return None
    kind = type(value)
    flat = _FLAT_COPIERS.get(kind)
    if flat is not None and _items_immutable(value):
        return flat
    if isinstance(value, msgspec.Struct) and all(
        is_deeply_immutable(getattr(value, name)) for name in value.__struct_fields__
    ):
        return copy.copy
    return copy.deepcopy


def _items_immutable(value: Any) -> bool:
    if isinstance(value, bytearray):
        return True
    items = value.items() if isinstance(value, dict) else value
    return all(is_deeply_immutable(item) for item in items)


def allocated(size: int) -> int:
    """Return the bytes the allocator takes for an object of ``size`` bytes (pymalloc's 16-byte steps)."""
    return (size + 15) & ~15


def _shared(value: object) -> bool:
    """Whether ``value`` is one of the objects the interpreter shares (no entry keeps it alive alone)."""
    kind = type(value)
    if value is None or kind is bool or isinstance(value, enum.Enum):
        return True
    if kind is int:
        return -5 <= value <= 256  # type: ignore[operator]
    return kind is str and len(value) <= 1 and (not value or ord(value) < 256)  # type: ignore[arg-type]


def approximate_size(value: object, depth: int = 0) -> int:
    """Return an estimate of the bytes ``value`` keeps alive, as the allocator counts them.

    Objects the interpreter shares (``None``, booleans, small ints, enum members, one-character
    strings) cost nothing; containers are followed and other shared objects counted again, which errs
    on the safe side.
    """
    if _shared(value):
        return 0
    size = allocated(sys.getsizeof(value, 64))
    if depth > _MAX_DEPTH or type(value) in _SCALARS:
        return size
    if isinstance(value, dict):
        return size + sum(
            approximate_size(k, depth + 1) + approximate_size(v, depth + 1) for k, v in value.items()
        )
    if isinstance(value, list | tuple | set | frozenset):
        return size + sum(approximate_size(item, depth + 1) for item in value)
    if isinstance(value, msgspec.Struct):
        return size + sum(
            approximate_size(getattr(value, name), depth + 1) for name in type(value).__struct_fields__
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return size + sum(
            approximate_size(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)
        )
    return size


class Frozen:
    """A value prepared for sharing: the object kept, how to copy it per reader, and its size.

    The size is measured only when the memory level asks for it (a value read from Redis for a type
    that is not kept in memory never needs it).
    """

    __slots__ = ("_size", "copier", "value")

    def __init__(self, value: object) -> None:
        self.copier = copier_for(value)
        self.value = value if self.copier is None else self.copier(value)
        self._size = -1

    @property
    def size(self) -> int:
        """Approximate bytes kept alive by the value."""
        if self._size < 0:
            self._size = approximate_size(self.value)
        return self._size

    def thaw(self) -> Any:
        """Return the value for one reader (the shared object, or a private copy)."""
        copier = self.copier
        return self.value if copier is None else copier(self.value)
