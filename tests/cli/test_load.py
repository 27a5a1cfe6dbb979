"""``tux-db load``: rows from a JSON Lines file, all or nothing, through db.batch."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from tux.database import Database
from tux.database.cli.errors import ExitCode
from tux.database.cli.main import app

runner = CliRunner()
GUILD = 111_111_111_111_111_111


def write_rows(path: Path, rows: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


async def levels_of(url: str) -> dict[int, float]:
    async with Database(url, cache_enabled=False) as db:
        return {row.member_id: row.xp for row in await db.levels.find_all(guild_id=GUILD)}


def migrated(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'import.sqlite3'}"
    assert runner.invoke(app, ["migrate", "upgrade", "--database-url", url]).exit_code == 0
    return url


def test_load_writes_every_row_and_upsert_accumulates(tmp_path: Path) -> None:
    url = migrated(tmp_path)
    rows = write_rows(
        tmp_path / "levels.jsonl", [{"guild_id": GUILD, "member_id": m, "xp": 2.0} for m in (1, 2, 3)]
    )
    first = runner.invoke(app, ["load", "levels", str(rows), "--database-url", url])
    assert first.exit_code == 0, first.output
    assert "loaded 3 row(s) into levels" in first.output
    again = runner.invoke(
        app, ["load", "levels", str(rows), "--database-url", url, "--upsert", "--accumulate", "xp"]
    )
    assert again.exit_code == 0, again.output
    assert asyncio.run(levels_of(url)) == {1: 4.0, 2: 4.0, 3: 4.0}


def test_a_bad_row_loads_nothing_and_names_the_row(tmp_path: Path) -> None:
    url = migrated(tmp_path)
    rows = write_rows(
        tmp_path / "bad.jsonl", [{"guild_id": GUILD, "member_id": 1}, {"guild_id": GUILD, "member_id": "x"}]
    )
    result = runner.invoke(app, ["load", "levels", str(rows), "--database-url", url])
    assert result.exit_code == ExitCode.DATABASE
    assert "row 1" in result.output
    assert asyncio.run(levels_of(url)) == {}
