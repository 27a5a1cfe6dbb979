"""Fill tickets: the process-local half of "no stale fill".

Before a value is read from a lower level or loaded from the database, the reader opens a ticket for
its key. Every invalidation that reaches this process (a local write, or a message on the bus) voids
the open tickets it touches, and a fill whose ticket was voided is refused: the value was read before
the invalidation and may be older than the data. Only fills in flight hold tickets, so voiding scans a
handful of objects, never the cache.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from tux.database.caching.keys import EPOCH_TAG, tags_of


class FillTicket:
    """Permission to fill one key, valid until an invalidation touches the key or it gets too old."""

    __slots__ = ("name", "started", "tags", "valid")

    def __init__(self, name: str) -> None:
        self.name = name
        self.tags = tags_of(name)
        self.started = time.monotonic()
        self.valid = True


class TicketBook:
    """The open tickets of one cache manager.

    Parameters
    ----------
    max_age
        Seconds after which a ticket no longer allows a fill. It bounds how long a slow loader's result
        can be trusted, and therefore how long the shared levels must remember an invalidation.
    """

    def __init__(self, max_age: float) -> None:
        self._max_age = max_age
        self._open: dict[str, list[FillTicket]] = {}

    def open(self, name: str) -> FillTicket:
        """Open and return a ticket for ``name``."""
        ticket = FillTicket(name)
        self._open.setdefault(name, []).append(ticket)
        return ticket

    def close(self, ticket: FillTicket) -> None:
        """Forget ``ticket`` (its fill is done or abandoned)."""
        tickets = self._open.get(ticket.name)
        if tickets is None:
            return
        if ticket in tickets:
            tickets.remove(ticket)
        if not tickets:
            del self._open[ticket.name]

    def usable(self, ticket: FillTicket) -> bool:
        """Whether ``ticket`` still allows its fill."""
        return ticket.valid and time.monotonic() - ticket.started <= self._max_age

    def void_names(self, names: Iterable[str]) -> None:
        """Void the tickets of the keys ``names``."""
        for name in names:
            for ticket in self._open.get(name, ()):
                ticket.valid = False

    def void_tags(self, tags: Iterable[str]) -> None:
        """Void the tickets of every key in the groups ``tags``."""
        wanted = set(tags)
        if EPOCH_TAG in wanted:
            self.void_all()
            return
        for tickets in self._open.values():
            for ticket in tickets:
                if not wanted.isdisjoint(ticket.tags):
                    ticket.valid = False

    def void_all(self) -> None:
        """Void every open ticket (flush, lost bus, Redis outage)."""
        for tickets in self._open.values():
            for ticket in tickets:
                ticket.valid = False
