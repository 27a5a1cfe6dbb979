"""A backend-native snapshot of a schema, to compare what the migrations build with what the models build.

Alembic's autogenerate ignores CHECK constraints, partial-index predicates and table persistence, and on
SQLite it cannot see expression indexes at all; this snapshot reads those straight from the catalog.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

IGNORED_TABLES = ("alembic_version",)

_PG_QUERIES = {
    "tables": """
        SELECT c.relname, c.relpersistence FROM pg_class c
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
    """,
    "columns": """
        SELECT table_name, ordinal_position, column_name, data_type, character_maximum_length,
               is_nullable, column_default
        FROM information_schema.columns WHERE table_schema = 'public'
    """,
    "constraints": """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE connamespace = 'public'::regnamespace
    """,
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "sequences": """
        SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'
    """,
}


def _split_top_level(body: str) -> list[str]:
    """Split a CREATE TABLE body on the commas that are not inside parentheses or quotes."""
    items: list[str] = []
    depth = 0
    quoted = False
    current: list[str] = []
    for char in body:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        elif not quoted and depth == 0 and char == ",":
            items.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    items.append("".join(current).strip())
    return sorted(item for item in items if item)


def _normalize_sqlite(kind: str, sql: str) -> Any:
    sql = re.sub(r"\s+", " ", sql).strip()
    if kind != "table":
        return sql
    head, _, rest = sql.partition("(")
    return (head.strip(), tuple(_split_top_level(rest.rstrip().removesuffix(")"))))


async def snapshot(engine: AsyncEngine) -> dict[Any, Any]:
    """Return the schema behind ``engine`` as comparable, order-independent sets."""
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            result: dict[Any, Any] = {}
            for key, query in _PG_QUERIES.items():
                rows = (await connection.execute(text(query))).all()
                result[key] = {
                    tuple(row) for row in rows if not any(str(value) in IGNORED_TABLES for value in row[:2])
                }
            return result
        rows = (
            await connection.execute(
                text(
                    "SELECT type, name, sql FROM sqlite_master"
                    " WHERE name NOT LIKE 'sqlite_%' AND sql IS NOT NULL"
                )
            )
        ).all()
        return {
            (kind, name): _normalize_sqlite(kind, sql)
            for kind, name, sql in rows
            if name not in IGNORED_TABLES
        }
