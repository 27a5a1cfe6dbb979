"""How the cache's memory budget (``memory_max_bytes``) is split, so the process pays no more than it.

The budget bounds what the cache costs in resident memory, not only the sizes of the objects the memory
level counts. Three things share it:

- the memos of per-guild keys (:class:`KeyMemoBudget`), ``1/KEY_MEMO_SHARE`` of it, reserved;
- the allocator's headroom: under churn (entries evicted, invalidated and refilled all the time)
  CPython's allocator holds partly used pools and arenas and the dicts keep spare and retired tables,
  so the process grows by more than the objects it keeps: 1.2x (32 MiB) to 1.5x (8 MiB) their bytes
  after a million operations (the soak in ``tests/reliability``). ``1/ALLOCATOR_SHARE`` of what the
  memos leave is kept for it;
- the memory level, by :func:`~tux.database.caching.memory.entry_size`: the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

KEY_MEMO_SHARE = 8
"""The memos of per-guild keys of all regions together take at most ``1/KEY_MEMO_SHARE`` of the budget.
At 32 MiB they hold 17,476 keys, several per guild for the largest shard Discord allows."""
KEY_MEMO_ENTRY_BYTES = 240
"""What one memoized key keeps alive: its dict slot, the guild id, the key and its name (about 217
bytes measured with ``tracemalloc`` over 60,000 keys; a dict just grown holds more per key)."""
ALLOCATOR_SHARE = 4
"""``1/ALLOCATOR_SHARE`` of what the memos leave is the allocator's headroom: of the default 32 MiB, the
memos get 4 MiB, the headroom 7 MiB and the level 21 MiB, about 57,000 guild configs."""


class KeyMemoBudget:
    """How many per-guild keys the regions of one cache may memoize together.

    Parameters
    ----------
    max_bytes
        The bytes the memos may use.
    """

    __slots__ = ("capacity", "held")

    def __init__(self, max_bytes: int) -> None:
        self.capacity = max_bytes // KEY_MEMO_ENTRY_BYTES
        self.held = 0

    @property
    def reserved(self) -> int:
        """The bytes of the budget the memos may use."""
        return self.capacity * KEY_MEMO_ENTRY_BYTES


@dataclass(frozen=True, slots=True)
class MemoryBudget:
    """The split of ``max_bytes``: the key memos' share and the memory level's byte bound."""

    key_memo: KeyMemoBudget
    level_bytes: int

    @classmethod
    def of(cls, max_bytes: int) -> MemoryBudget:
        """Split ``max_bytes`` as the module describes."""
        key_memo = KeyMemoBudget(max_bytes // KEY_MEMO_SHARE)
        rest = max_bytes - key_memo.reserved
        return cls(key_memo, rest - rest // ALLOCATOR_SHARE)
