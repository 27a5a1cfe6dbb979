"""SQL text is never built from strings at run time, except where listed here with the reason.

The scan reads every module of ``tux.database``, the benchmarks and the examples with :mod:`ast` and finds
each call of a SQL sink (``text()``, ``exec_driver_sql``, ``execute``, asyncpg's ``fetch*``, DDL constructs)
whose statement is an f-string, a ``%`` or ``+`` of strings, a ``.format()`` / ``.join()`` call, or a
local variable assigned one of those. Values must travel as bound parameters; a listed exception may
only interpolate identifiers the code itself defines or numbers it has forced to ``int``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = (ROOT / "src" / "tux" / "database", ROOT / "benchmarks", ROOT / "examples")
SINKS = frozenset(
    {
        "text",
        "exec_driver_sql",
        "execute",
        "executemany",
        "fetch",
        "fetchrow",
        "fetchval",
        "literal_column",
        "CheckConstraint",
        "DDL",
    }
)

ALLOWED: dict[tuple[str, str], str] = {
    ("src/tux/database/transactions/patterns.py", "_begin"): (
        "SET LOCAL takes no bind parameters; the setting name comes from a fixed tuple in the code "
        "and the value is forced through int()"
    ),
    ("src/tux/database/core/engine.py", "_install_sqlite_hooks._on_connect"): (
        "PRAGMA takes no bind parameters; the busy timeout is forced through int()"
    ),
    ("src/tux/database/models/cache_entry.py", "_set_unlogged"): (
        "DDL names the model's own table; identifiers cannot be bound"
    ),
    ("src/tux/database/caching/database_level.py", "DatabaseLevel.__init__"): (
        "names the model's own table (identifiers cannot be bound); every value is a bind parameter"
    ),
    ("src/tux/database/models/_columns.py", "positive"): "CHECK DDL from a column name the model passes",
    ("src/tux/database/models/_columns.py", "non_negative"): "CHECK DDL from a column name the model passes",
    ("src/tux/database/models/_columns.py", "between"): "CHECK DDL from a column name and int bounds",
    ("src/tux/database/models/_columns.py", "length_between"): "CHECK DDL from a column name and int bounds",
    ("src/tux/database/migrations/versions/0001_initial_schema.py", "_one_of"): (
        "CHECK DDL listing the migration's own constant enum values"
    ),
    ("src/tux/database/optimization/catalog.py", "sqlite_indexes"): (
        "PRAGMA takes no bind parameters; table and index names come from sqlite_master, quoted"
    ),
    ("src/tux/database/optimization/indexes.py", "IndexOptimizer._pattern_statements"): (
        "a probe of an observed table and column: identifiers, quoted; no value is interpolated"
    ),
    ("src/tux/database/optimization/planner.py", "HypoPlanner.explain"): (
        "EXPLAIN in front of a statement the layer itself sent; its parameters stay bound"
    ),
    ("src/tux/database/optimization/planner.py", "ScratchPlanner.plan"): (
        "EXPLAIN QUERY PLAN in front of an observed statement, on an in-memory scratch copy; bound parameters"
    ),
    ("src/tux/database/optimization/planner.py", "ScratchPlanner.cost_with.cost_of"): (
        "DROP INDEX of the planner's constant candidate name on the in-memory scratch copy"
    ),
    ("src/tux/database/cli/importer.py", "_copy_table"): (
        "reads a legacy table: its name and key columns come from the importer's own mapping, quoted "
        "by the dialect's identifier preparer"
    ),
    ("src/tux/database/cli/importer.py", "_count"): (
        "counts a table named by the importer's own mapping, quoted by the dialect's identifier preparer"
    ),
    ("src/tux/database/cli/importer.py", "_move_sequences"): (
        "MAX() over our own model's key column and table; the sequence lookup's names are bound"
    ),
    ("src/tux/database/operations/writers.py", "executemany_rows"): (
        "the batch writer's INSERT: table and column names quoted by the dialect's identifier "
        "preparer, one placeholder per column; every value is bound"
    ),
    ("src/tux/database/cli/bench_bulk.py", "sqlite_writes"): "PRAGMA takes no bind parameters; constants",
    **dict.fromkeys(
        (
            ("benchmarks/_pg.py", "temporary_database"),
            ("benchmarks/bench_cache_core.py", "main"),
            ("benchmarks/bench_hot_path.py", "main"),
        ),
        "CREATE/DROP DATABASE of a name made from uuid4 hex; identifiers cannot be bound",
    ),
    ("benchmarks/bench_cache_core.py", "memory_vs_postgres"): (
        "the raw-driver baseline table: column names from the benchmark's constant list, $n placeholders"
    ),
}
"""Where SQL text is built from strings, and why that is safe there (no value from outside)."""


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    scope: str
    line: int
    sink: str


def _is_built(node: ast.expr, built_names: set[str]) -> bool:
    """Whether ``node`` builds a string at run time from parts."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.IfExp):
        return _is_built(node.body, built_names) or _is_built(node.orelse, built_names)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return _is_stringish(node.left) or _is_stringish(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in ("format", "join", "format_map")
    return isinstance(node, ast.Name) and node.id in built_names


def _is_stringish(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(
        node, (ast.JoinedStr, ast.BinOp)
    )


def _sink_name(call: ast.Call) -> str | None:
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    return name if name in SINKS else None


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: str) -> None:
        self.path = path
        self.scope: list[str] = []
        self.built: list[set[str]] = [set()]
        self.findings: list[Finding] = []

    def _enter(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        self.scope.append(node.name)
        self.built.append(set())
        self.generic_visit(node)
        self.built.pop()
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _enter  # noqa: N815

    def visit_Assign(self, node: ast.Assign) -> None:
        if _is_built(node.value, self.built[-1]):
            self.built[-1].update(target.id for target in node.targets if isinstance(target, ast.Name))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        sink = _sink_name(node)
        statement = node.args[0] if node.args else None
        if sink is not None and statement is not None and _is_built(statement, self.built[-1]):
            self.findings.append(Finding(self.path, ".".join(self.scope), node.lineno, sink))
        self.generic_visit(node)


def scan_source(path: str, source: str) -> list[Finding]:
    """Every string-built SQL statement in ``source``."""
    scanner = _Scanner(path)
    scanner.visit(ast.parse(source))
    return scanner.findings


def scan() -> list[Finding]:
    findings: list[Finding] = []
    for folder in SCANNED:
        for file in sorted(folder.rglob("*.py")):
            findings += scan_source(file.relative_to(ROOT).as_posix(), file.read_text(encoding="utf-8"))
    return findings


def test_sql_is_built_only_where_allowed() -> None:
    findings = scan()
    unexplained = [finding for finding in findings if (finding.path, finding.scope) not in ALLOWED]
    assert unexplained == [], "string-built SQL without a listed reason (bind the values instead)"


def test_every_allowance_is_still_needed() -> None:
    found = {(finding.path, finding.scope) for finding in scan()}
    assert set(ALLOWED) - found == set(), "an allowance no longer matches any code: remove it"


def test_the_scanner_finds_each_way_of_building_sql() -> None:
    """The scan is only as good as its patterns: each must be caught, and bound SQL must not be."""
    source = """
def f_string(session, name):
    session.execute(text(f"SELECT * FROM guild WHERE name = '{name}'"))

def concatenated(connection, name):
    connection.exec_driver_sql("DELETE FROM guild WHERE id = " + name)

def percent(connection, name):
    connection.fetchval("SELECT %s" % name)

def formatted(connection, name):
    connection.execute("SELECT {}".format(name))

def conditional(session, name):
    session.execute(text(f"SELECT {name}" if name else "SELECT 1"))

def via_variable(session, name):
    statement = f"SELECT {name}"
    session.execute(text(statement))

def bound(session, name):
    session.execute(text("SELECT * FROM guild WHERE name = :name"), {"name": name})

def constant(session):
    session.execute(text("SELECT 1"))
"""
    found = [finding.scope for finding in scan_source("example.py", source)]
    assert found == ["f_string", "concatenated", "percent", "formatted", "conditional", "via_variable"]
