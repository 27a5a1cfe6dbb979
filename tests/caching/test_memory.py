"""The memory level: bounds, CLOCK eviction, TTL, isolation of mutable values, group drops."""

from __future__ import annotations

import dataclasses

import msgspec
import pytest

from tux.database.caching import memory as memory_module
from tux.database.caching.keys import kind_of
from tux.database.caching.manager import CacheManager
from tux.database.caching.memory import MemoryLevel
from tux.database.caching.region import CacheKey
from tux.database.caching.snapshot import Frozen, copier_for, is_deeply_immutable
from tux.database.caching.types import MISS


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(memory_module, "_monotonic", fake)
    return fake


class Frozen3(msgspec.Struct, frozen=True):
    a: int
    b: tuple[str, ...]


class Mutable(msgspec.Struct):
    a: int
    b: list[int]


@dataclasses.dataclass(frozen=True)
class FrozenDC:
    a: int
    b: tuple[int, ...]


def put(level: MemoryLevel, name: str, value: object, ttl: float = 60) -> None:
    level.put(name, Frozen(value), ttl)


_REGIONS = CacheManager()


def get(level: MemoryLevel, name: str) -> object:
    """Look ``name`` up in ``level`` (a key of a memory-level region, as the cache manager builds)."""
    return level.lookup(CacheKey(_REGIONS.region(kind_of(name)), None, name))


def test_entries_bound_evicts(clock: Clock) -> None:
    level = MemoryLevel(max_entries=3, max_bytes=10**9)
    for index in range(5):
        put(level, f"k:1:{index}", index)
    assert len(level) == 3
    assert level.evictions == 2
    assert get(level, "k:1:0") is MISS
    assert get(level, "k:1:4") == 4


def test_clock_keeps_entries_that_were_read(clock: Clock) -> None:
    level = MemoryLevel(max_entries=3, max_bytes=10**9)
    for index in range(3):
        put(level, f"k:1:{index}", index)
    assert get(level, "k:1:0") == 0
    put(level, "k:1:3", 3)
    assert get(level, "k:1:0") == 0, "the hot entry got a second chance"
    assert get(level, "k:1:1") is MISS, "the cold oldest entry was evicted"


def test_bytes_bound_evicts(clock: Clock) -> None:
    level = MemoryLevel(max_entries=1000, max_bytes=8000)
    for index in range(50):
        put(level, f"k:1:{index}", "x" * 500)
    assert level.bytes <= 8000
    assert level.evictions > 0
    put(level, "k:1:huge", "x" * 5000)
    assert get(level, "k:1:huge") is MISS, "a value larger than an eighth of the budget is not cached"


def test_ttl_expires(clock: Clock) -> None:
    level = MemoryLevel(max_entries=10, max_bytes=10**9)
    put(level, "k:1:a", "v", ttl=5)
    clock.now += 4.9
    assert get(level, "k:1:a") == "v"
    clock.now += 0.2
    assert get(level, "k:1:a") is MISS
    assert level.expirations == 1
    assert level.bytes == 0


def test_group_and_name_drops(clock: Clock) -> None:
    level = MemoryLevel(max_entries=10, max_bytes=10**9)
    put(level, "cases:1:1", 1)
    put(level, "cases:1:2", 2)
    put(level, "cases:2:1", 3)
    put(level, "afk:1:1", 4)
    level.delete_tags(["cases:1"])
    assert [get(level, n) for n in ("cases:1:1", "cases:1:2", "cases:2:1")] == [MISS, MISS, 3]
    level.delete_tags(["cases"])
    assert get(level, "cases:2:1") is MISS
    level.delete_names(["afk:1:1"])
    assert len(level) == 0
    put(level, "afk:1:1", 4)
    level.delete_tags(["*"])
    assert len(level) == 0


def test_inactive_level_stores_nothing(clock: Clock) -> None:
    level = MemoryLevel(max_entries=10, max_bytes=10**9)
    level.active = False
    put(level, "k:1:a", 1)
    assert get(level, "k:1:a") is MISS


@pytest.mark.parametrize(
    "value",
    [
        (1, "a", None, 2.5),
        Frozen3(1, ("x", "y")),
        FrozenDC(1, (2, 3)),
        frozenset({1, 2}),
        "text",
    ],
)
def test_immutable_values_are_shared_without_copy(value: object) -> None:
    assert is_deeply_immutable(value)
    level = MemoryLevel(max_entries=10, max_bytes=10**9)
    put(level, "k:1:a", value)
    assert get(level, "k:1:a") is value


@pytest.mark.parametrize(
    "value",
    [
        {"prefix": "$", "ids": [1, 2]},
        [1, 2, 3],
        {"a": 1},
        {1, 2},
        Mutable(1, [2]),
        (1, [2]),
    ],
)
def test_mutating_a_result_does_not_change_the_next_one(value: object) -> None:
    level = MemoryLevel(max_entries=10, max_bytes=10**9)
    put(level, "k:1:a", value)
    first = get(level, "k:1:a")
    assert type(first) is type(value)
    assert first == value
    if isinstance(first, dict):
        first["prefix"] = "!"
        first.pop("a", None)
        first.get("ids", []).append(9)
    elif isinstance(first, list | set):
        first.clear()
    elif isinstance(first, Mutable):
        first.b.append(9)
        first.a = 5
    elif isinstance(first, tuple):
        first[1].append(9)
    assert get(level, "k:1:a") == value


def test_the_caller_mutating_its_value_after_a_put_changes_nothing() -> None:
    level = MemoryLevel(max_entries=10, max_bytes=10**9)
    value = {"a": [1]}
    put(level, "k:1:a", value)
    value["a"].append(2)
    assert get(level, "k:1:a") == {"a": [1]}


def test_copy_strategies() -> None:
    assert copier_for((1, 2)) is None
    assert copier_for({"a": 1}) is dict.copy
    assert copier_for([1, (2, 3)]) is list.copy
    assert copier_for({"a": [1]}) is not dict.copy
