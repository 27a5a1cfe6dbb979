from __future__ import annotations

import pytest

from tux.database.optimization.fingerprint import fingerprint, shape_of


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ("SELECT * FROM cases WHERE id = 5", "SELECT * FROM cases WHERE id = 123456789"),
        ("SELECT * FROM t WHERE name = 'bob'", "SELECT * FROM t WHERE name = 'it''s -- not a comment'"),
        ("SELECT * FROM t WHERE id = $1::BIGINT", "SELECT * FROM t WHERE id = $2::BIGINT"),
        ("SELECT * FROM t WHERE id = ?", "SELECT * FROM t WHERE id = %(id_1)s"),
        ("SELECT * FROM t WHERE id = :id", "SELECT * FROM t WHERE id = %s"),
        ("SELECT * FROM t WHERE id IN (1, 2, 3)", "SELECT * FROM t WHERE id IN ($1, $2)"),
        ("SELECT * FROM t WHERE id IN (?)", "SELECT * FROM t WHERE id IN (?, ?, ?, ?, ?)"),
        ("INSERT INTO t (a, b) VALUES (?, ?)", "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)"),
        ("SELECT  *\n FROM t /* hint */ WHERE x = 1.5e3", "SELECT * FROM t WHERE x = 2 -- trailing"),
    ],
)
def test_one_shape_whatever_the_values(left: str, right: str) -> None:
    assert fingerprint(left) == fingerprint(right)


def test_different_shapes_stay_apart() -> None:
    assert fingerprint("SELECT * FROM t WHERE a = ?") != fingerprint("SELECT * FROM t WHERE b = ?")
    assert fingerprint("SELECT * FROM t1 WHERE a = ?") != fingerprint("SELECT * FROM t2 WHERE a = ?")
    assert fingerprint("SELECT a, anon_1 FROM t") == "SELECT a, anon_1 FROM t"


def test_shape_fields() -> None:
    shape = shape_of("UPDATE levels SET xp = xp + $1 WHERE guild_id = $2")
    assert (shape.kind, shape.table, shape.control, shape.is_write) == ("update", "levels", False, True)
    assert shape_of("SELECT 1").table is None
    assert shape_of("BEGIN IMMEDIATE").control
    assert shape_of("SAVEPOINT sa_savepoint_1").control
    assert len(shape.id) == 10
    assert shape_of("UPDATE levels SET xp = xp + $1 WHERE guild_id = $2") is shape
