"""Statement fingerprints: one query shape, whatever its literals, bind parameters or IN-list lengths.

``SELECT * FROM cases WHERE guild_id = 5 AND id IN (1, 2, 3)`` and the same query with other values,
another number of ids, ``$1``/``?``/``%s``/``:name`` placeholders or a multi-row ``VALUES`` list all map
to one :class:`Shape`. The regular expressions run once per distinct SQL text: SQLAlchemy sends the
same compiled string object again and again, so the per-statement cost is one dictionary lookup.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["Shape", "fingerprint", "shape_of"]

_CACHE_LIMIT = 4096
"""Distinct SQL texts remembered; past it shapes are still computed, just not kept (bounded memory)."""

_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA", "SET", "SHOW", "END")
_WRITES = frozenset({"insert", "update", "delete"})

_STRING_OR_COMMENT = re.compile(r"(?:\b[EeBbXx])?'(?:[^']|'')*'|(/\*.*?\*/|--[^\n]*)", re.DOTALL)
"""One pass, so a ``--`` inside a string is not taken for a comment (group 1: a comment)."""
_PLACEHOLDER = re.compile(r"\$\d+|%\(\w+\)s|%s|(?<![:\w]):\w+")
_NUMBER = re.compile(r"(?<![\w$.\"])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?\b")
_SPACE = re.compile(r"\s+")
_LIST = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
"""A parenthesized list of values only: an IN-list, a VALUES row, a function's arguments."""
_ROWS = re.compile(r"\(\.\.\.\)(?:\s*,\s*\(\.\.\.\))+")
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE|JOIN)\s+\"?([A-Za-z_][\w.]*)\"?", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Shape:
    """What a statement is, once its values are taken out.

    Attributes
    ----------
    fingerprint
        The normalized text: literals and placeholders as ``?``, lists as ``(...)``, single spaces.
    id
        A short stable hash of ``fingerprint`` (a metric label, a log field).
    kind
        The first keyword in lower case: ``select``, ``insert``, ``update``, ``delete``, ``with``, ...
    table
        The first table the statement names (``FROM``/``INTO``/``UPDATE``), or ``None``.
    control
        Transaction or session control (``BEGIN``, ``SAVEPOINT``, ``PRAGMA``, ...), not data access.
    """

    fingerprint: str
    id: str
    kind: str
    table: str | None
    control: bool

    @property
    def is_write(self) -> bool:
        """Whether the statement changes rows."""
        return self.kind in _WRITES


def fingerprint(sql: str) -> str:
    """Return the normalized text of ``sql`` (see :class:`Shape`)."""
    text = _STRING_OR_COMMENT.sub(lambda match: " " if match.group(1) else "?", sql)
    text = _NUMBER.sub("?", _PLACEHOLDER.sub("?", text))
    text = _SPACE.sub(" ", text).strip()
    text = _LIST.sub("(...)", text)
    return _ROWS.sub("(...)", text)


_shapes: dict[str, Shape] = {}


def shape_of(sql: str) -> Shape:
    """Return the :class:`Shape` of ``sql``, computed once per distinct text."""
    shape = _shapes.get(sql)
    if shape is None:
        shape = _compute(sql)
        if len(_shapes) < _CACHE_LIMIT:
            _shapes[sql] = shape
    return shape


def _compute(sql: str) -> Shape:
    normalized = fingerprint(sql)
    head = normalized.split(" ", 1)[0].upper()
    table = _TABLE.search(normalized)
    return Shape(
        fingerprint=normalized,
        id=hashlib.blake2b(normalized.encode(), digest_size=5).hexdigest(),
        kind=head.lower(),
        table=table.group(1) if table else None,
        control=head in _CONTROL,
    )
