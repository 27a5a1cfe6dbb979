"""``tux-db load``: JSON Lines rows into one repository through ``db.batch``, with a progress bar."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tux.database.exceptions import ValidationError
from tux.database.facade import Database

REPOSITORIES = (
    "guilds",
    "guild_configs",
    "member_status",
    "levels",
    "levels_config",
    "snippets",
    "afk",
    "reminders",
    "starboards",
)
"""``Database`` attributes an import may target."""


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Return the JSON objects of ``path``, one per non-empty line."""
    rows: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValidationError(f"{path}:{number}: not JSON ({error.msg})") from None
            if not isinstance(row, dict):
                raise ValidationError(f"{path}:{number}: expected a JSON object")
            rows.append(row)
    return rows


async def load_rows(
    url: str | None,
    repository: str,
    path: Path,
    *,
    upsert: bool,
    accumulate: Sequence[str],
    console: Console | None = None,
) -> int:
    """Write the rows of ``path`` into ``repository`` in one transaction; return how many were written."""
    rows = read_rows(path)
    async with Database(url) as db:
        target = getattr(db, repository)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(f"{repository} <- {path.name}", total=len(rows))

            def advance(done: int, _total: int) -> None:
                progress.update(task, completed=done)

            if upsert:
                result = await db.batch.batch_upsert(target, rows, accumulate=accumulate, progress=advance)
            else:
                result = await db.batch.batch_create(target, rows, returning=False, progress=advance)
    return result.written
