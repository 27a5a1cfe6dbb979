"""Hypothesis strategies for hostile values: ids, text, wrong types, filter keys."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from tux.database.core.ids import INT64_MAX, INT64_MIN

EXAMPLES = int(os.environ.get("TUX_HOSTILE_EXAMPLES", "40"))
"""Examples per property and backend; CI keeps the default, a deeper local run raises it."""

HOSTILE = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""Modest example counts (the suite runs on two shared cores), no example database on disk.

The fixtures (one migrated database per backend) are set up once per test and shared by its
examples on purpose: each example checks its own effect against the row counts taken before it.
"""

SQL_FRAGMENTS = (
    "'; DROP TABLE guild; --",
    "' OR '1'='1",
    '" OR ""="',
    "1; DELETE FROM cases",
    "') ON CONFLICT DO NOTHING; --",
    "%",
    "_%_",
    "\\",
    "\\'",
    "$1",
    ":guild_id",
    "?",
    "/* */",
    "--",
    "'||'",
    "$$",
    "E'\\x00'",
    "; VACUUM;",
)
QUOTES = ("'", '"', "`", "''", "\u2019", "\u201c")
EMOJI = (
    "\U0001f600",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "\U0001f3f3\ufe0f\u200d\U0001f308",
)
RTL = ("\u202e", "\u0645\u0631\u062d\u0628\u0627", "\u05e9\u05dc\u05d5\u05dd", "\u200f", "\u202b", "\u2067")
ODDITIES = ("\u200b", "\ufeff", "e\u0301", "\u0085", "\r\n", "\t", "\uffff", "\U0010ffff", " ", "\u3000")
NUL = "\x00"
SURROGATES = ("\ud800", "\udfff", "\udc80")
ATOMS = (*SQL_FRAGMENTS, *QUOTES, *EMOJI, *RTL, *ODDITIES, NUL, *SURROGATES)

EDGE_INTS = (
    *(0, -1, 1, 2**31 - 1, 2**31, -(2**31) - 1, 2**15, INT64_MIN, INT64_MAX),
    *(INT64_MAX + 1, INT64_MIN - 1, 2**64, 10**30, -(10**30)),
)
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

WRONG_TYPES: tuple[object, ...] = (
    "1",
    "",
    1.5,
    True,
    False,
    None,
    b"1",
    [1],
    (1, 2),
    {"id": 1},
    Decimal(1),
    float("nan"),
    float("inf"),
    NOW.replace(tzinfo=None),
    object(),
)


def texts(max_length: int | None = None) -> st.SearchStrategy[str]:
    """Hostile text: SQL, quotes, NUL, emoji, RTL, surrogates; text at and past ``max_length``."""
    mixed = st.lists(st.one_of(st.sampled_from(ATOMS), st.text(max_size=4)), max_size=6).map("".join)
    limit = max_length or 4000
    sized = st.builds(
        lambda char, length: char * length,
        st.sampled_from(("x", "\U0001f600", "\u0634", "'")),
        st.sampled_from((limit - 1, limit, limit + 1)),
    )
    return st.one_of(mixed, mixed, sized, st.text())


def ints() -> st.SearchStrategy[int]:
    """Ids at the edges of (and past) a signed 64-bit integer, and any other integer."""
    return st.one_of(st.sampled_from(EDGE_INTS), st.integers())


def wrong_types() -> st.SearchStrategy[object]:
    """Values of the wrong type for any parameter."""
    return st.sampled_from(WRONG_TYPES)


def datetimes() -> st.SearchStrategy[object]:
    """Aware and naive datetimes, far past and future, odd offsets."""
    aware = st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from((UTC, timezone(timedelta(hours=14)), timezone(-timedelta(hours=12)))),
    )
    naive = st.datetimes()
    return st.one_of(aware, naive, st.sampled_from((NOW, NOW + timedelta(days=1), NOW - timedelta(days=1))))


def floats() -> st.SearchStrategy[object]:
    """Floats, including NaN, infinities, huge ints."""
    return st.one_of(st.floats(), st.sampled_from((10**400, -(10**400), 0, -0.0, 1e308)))


def hostile_for(kind: str, max_length: int | None = None) -> st.SearchStrategy[object]:
    """Hostile values for a parameter of ``kind`` (``int``, ``str``, ``float``, ...), wrong types included."""
    by_kind: dict[str, st.SearchStrategy[object]] = {
        "int": ints(),
        "str": texts(max_length),
        "float": floats(),
        "datetime": datetimes(),
        "bool": st.booleans(),
        "json": st.one_of(
            st.dictionaries(texts(8), st.one_of(texts(8), ints(), floats()), max_size=3),
            st.lists(texts(8), max_size=3),
        ),
    }
    own = by_kind.get(kind, st.nothing())
    return st.one_of(own, own, own, wrong_types())


FILTER_OPERATORS = ("", "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "isnull")
JUNK_OPERATORS = ("like", "ilike", "contains", "regex", "gtee", "__", "in; DROP TABLE guild", "'", "\x00")


def filter_keys(fields: tuple[str, ...]) -> st.SearchStrategy[str]:
    """Filter keys: real fields with real and junk operators, and hostile field names."""
    operator = st.sampled_from(FILTER_OPERATORS + JUNK_OPERATORS)
    real = st.builds(lambda name, op: f"{name}__{op}" if op else name, st.sampled_from(fields), operator)
    junk = st.one_of(st.sampled_from(ATOMS), st.text(max_size=12)).filter(lambda key: key not in fields)
    return st.one_of(real, real, junk)
