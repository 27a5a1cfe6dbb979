"""Which columns a statement filters, joins and sorts on, per table: the raw material of index advice.

Parsed with sqlglot, a SQL parser that knows both dialects (``$1::BIGINT`` casts, ``?`` placeholders,
quoted identifiers, aliases, joins and subqueries), rather than with regular expressions over the
text, which break on exactly those. Parsing costs about a millisecond, so it runs once per statement
shape and only when index advice is asked for, never on the statement path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

__all__ = ["TableUse", "table_uses"]

_DIALECTS = {"postgresql": "postgres", "sqlite": "sqlite"}
_EQUALITY = (exp.EQ, exp.In, exp.Is)
_Note = Callable[[exp.Column, str], None]
_RANGE = (exp.GT, exp.GTE, exp.LT, exp.LTE, exp.Between, exp.Like)


@dataclass(slots=True)
class TableUse:
    """How one statement uses one table's columns (names in order of first appearance).

    Attributes
    ----------
    table
        The table's name (aliases resolved).
    equality
        Columns compared with a value by ``=``, ``IN`` or ``IS``: the best leading index columns.
    ranges
        Columns compared by ``<``, ``>``, ``BETWEEN`` or ``LIKE``: useful after the equality columns.
    joins
        Columns equated with another table's column (``ON`` or ``WHERE``).
    order
        ``ORDER BY`` columns.
    names
        The table's name and every alias it has in the statement (plans name tables by alias).
    """

    table: str
    equality: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    names: set[str] = field(default_factory=set)

    @property
    def empty(self) -> bool:
        """Whether nothing an index could serve was found."""
        return not (self.equality or self.ranges or self.joins or self.order)


def table_uses(sql: str, backend: str) -> list[TableUse]:
    """The tables ``sql`` reads through a filter, join or sort; ``[]`` when it cannot be parsed."""
    try:
        tree = sqlglot.parse_one(sql, read=_DIALECTS.get(backend, backend))
    except SqlglotError:
        return []
    uses: dict[str, TableUse] = {}
    for scope in tree.find_all(exp.Select, exp.Update, exp.Delete):
        _collect(scope, uses)
    return [use for use in uses.values() if not use.empty]


def _collect(scope: exp.Expression, uses: dict[str, TableUse]) -> None:
    aliases = {table.alias_or_name: table.name for table in _own_tables(scope)}
    if not aliases:
        return
    only = next(iter(aliases.values())) if len(set(aliases.values())) == 1 else None

    def owner(column: exp.Column) -> str | None:
        return aliases.get(column.table) if column.table else only

    def note(column: exp.Column, bucket: str) -> None:
        table = owner(column)
        if table is not None:
            use = uses.setdefault(table, TableUse(table, names={table}))
            use.names.update(alias for alias, name in aliases.items() if name == table)
            names: list[str] = getattr(use, bucket)
            if column.name not in names:
                names.append(column.name)

    where = scope.args.get("where")
    if where is not None:
        for predicate in where.find_all(*_EQUALITY, *_RANGE):
            if _scope_of(predicate) is scope:  # a subquery's predicates belong to its own scope
                _note_predicate(predicate, note)
    for join in scope.args.get("joins") or ():
        condition = join.args.get("on")
        if condition is not None:
            for predicate in condition.find_all(exp.EQ):
                _note_predicate(predicate, note)
    order = scope.args.get("order")
    if order is not None:
        for ordered in order.expressions:
            if isinstance(ordered.this, exp.Column):
                note(ordered.this, "order")


def _own_tables(scope: exp.Expression) -> Iterable[exp.Table]:
    """Tables in this scope's FROM/JOIN (or UPDATE/DELETE target), not in nested subqueries."""
    for table in scope.find_all(exp.Table):
        if _scope_of(table) is scope and table.name:
            yield table


def _scope_of(node: exp.Expression) -> exp.Expression | None:
    return node.find_ancestor(exp.Select, exp.Update, exp.Delete)


def _note_predicate(predicate: exp.Expression, note: _Note) -> None:
    left, right = predicate.this, predicate.args.get("expression")
    if isinstance(left, exp.Column) and isinstance(right, exp.Column):
        note(left, "joins")
        note(right, "joins")
        return
    column = left if isinstance(left, exp.Column) else right if isinstance(right, exp.Column) else None
    if column is None:
        return
    value = right if column is left else left
    if isinstance(predicate, exp.In):
        value = None  # the IN-list holds values only when it is not a subquery
        if predicate.args.get("query") is not None:
            return
    if value is not None and value.find(exp.Column) is not None:
        return  # compared with an expression of columns: no index on this column alone serves it
    note(column, "equality" if isinstance(predicate, _EQUALITY) else "ranges")
