from __future__ import annotations

from tux.database.optimization.catalog import IndexInfo, covered, duplicate_indexes, unused_indexes
from tux.database.optimization.predicates import TableUse, table_uses


def test_where_join_and_order_columns_per_table_with_aliases() -> None:
    sql = (
        "SELECT cases.id FROM cases JOIN guild AS g ON g.id = cases.guild_id "
        "WHERE cases.case_user_id = $1::BIGINT AND cases.case_created_at > $2 "
        "ORDER BY cases.case_number DESC LIMIT $3::INTEGER"
    )
    uses = {use.table: use for use in table_uses(sql, "postgresql")}
    assert uses["cases"] == TableUse(
        "cases",
        equality=["case_user_id"],
        ranges=["case_created_at"],
        joins=["guild_id"],
        order=["case_number"],
        names={"cases"},
    )
    assert (uses["guild"].joins, uses["guild"].names) == (["id"], {"guild", "g"})


def test_update_where_only_and_in_lists() -> None:
    [use] = table_uses(
        "UPDATE levels SET xp = (levels.xp + ?) WHERE levels.guild_id = ? AND member_id IN (?, ?)", "sqlite"
    )
    assert (use.table, use.equality) == ("levels", ["guild_id", "member_id"])


def test_subquery_predicates_stay_in_their_scope() -> None:
    uses = {
        u.table: u
        for u in table_uses(
            "SELECT * FROM t WHERE a = %s AND b IN (SELECT x FROM u WHERE y = 3)", "postgresql"
        )
    }
    assert uses["t"].equality == ["a"]
    assert uses["u"].equality == ["y"]


def test_column_compared_with_columns_or_unparseable_gives_nothing() -> None:
    assert table_uses("SELECT * FROM t WHERE t.a = t.b + 1", "sqlite") == []
    assert table_uses("this is not ( sql", "sqlite") == []
    assert table_uses("INSERT INTO t (a) VALUES (?)", "sqlite") == []


def _index(name: str, *columns: str, **flags: bool) -> IndexInfo:
    return IndexInfo("t", name, columns, scans=0, **flags)


def test_duplicates_never_name_a_unique_index_redundant_and_report_twins_once() -> None:
    a = _index("ix_a", "x")
    ab = _index("ix_ab", "x", "y")
    unique_x = _index("uq_x", "x", unique=True, constraint=True)
    twin = _index("ix_a2", "x")
    partial = _index("ix_p", "x", partial=True)
    pairs = {(r.name, c.name) for r, c in duplicate_indexes([a, ab, unique_x, twin, partial])}
    assert ("ix_a", "ix_ab") in pairs
    assert ("ix_a2", "ix_ab") in pairs or ("ix_a2", "ix_a") in pairs
    assert not {("ix_a", "ix_a2"), ("ix_a2", "ix_a")} <= pairs  # twins: one of them, not both
    assert not any(redundant in ("uq_x", "ix_p") for redundant, _ in pairs)
    assert [index.name for index in unused_indexes([a, unique_x])] == ["ix_a"]


def test_covered_only_by_leading_columns_of_plain_indexes() -> None:
    indexes = [_index("ix_ab", "a", "b"), _index("ix_c", "c", partial=True)]
    assert covered("t", ["a"], indexes) is not None
    assert covered("t", ["a", "b"], indexes) is not None
    assert covered("t", ["b"], indexes) is None
    assert covered("t", ["c"], indexes) is None
    assert covered("other", ["a"], indexes) is None
