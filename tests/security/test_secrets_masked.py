"""Passwords of the database and Redis URLs never appear in logs, errors, reprs or CLI output.

The URLs carry a unique secret; every log record (loguru and the standard ``logging`` tree, at their
most verbose), every error raised with its whole chain, every ``repr``/``str`` of the objects a cog
holds and the CLI's output are searched for it.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger
from typer.testing import CliRunner

from tests.conftest import REDIS_URL
from tux.database import Database
from tux.database.cli.main import app
from tux.database.exceptions import DatabaseError

SECRET = f"pw-{uuid.uuid4().hex}"
REDIS_SECRET = f"rpw-{uuid.uuid4().hex}"


PG_UNREACHABLE = f"postgresql+asyncpg://postgres:{SECRET}@127.0.0.1:1/tux"
REDIS_UNREACHABLE = f"redis://:{REDIS_SECRET}@127.0.0.1:1/0"


@pytest.fixture
def log_text(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Everything loguru and the standard logging tree emit during the test, tracebacks included."""
    lines: list[str] = []
    sink = logger.add(
        lambda message: lines.append(str(message)), level="TRACE", backtrace=True, diagnose=True
    )
    caplog.set_level(logging.DEBUG)
    try:
        yield lines
    finally:
        logger.remove(sink)
        lines.extend(record.getMessage() for record in caplog.records)
        lines.extend(
            chain(record.exc_info[1]) for record in caplog.records if record.exc_info and record.exc_info[1]
        )


def leaks(*texts: object) -> list[str]:
    return [str(text) for text in texts if SECRET in str(text) or REDIS_SECRET in str(text)]


def chain(error: BaseException) -> str:
    return "".join(traceback.format_exception(error))


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_a_working_database_shows_no_password(
    backend: str, database_url: str, log_text: list[str]
) -> None:
    url = database_url.replace("://postgres@", f"://postgres:{SECRET}@", 1)  # trust auth ignores it
    redis_url = REDIS_URL.replace("redis://", f"redis://:{REDIS_SECRET}@", 1)  # no password set: AUTH fails
    assert SECRET in url
    assert REDIS_SECRET in redis_url
    async with Database(url, redis_url, redis_namespace=f"tuxsec-{uuid.uuid4().hex[:8]}", echo=True) as db:
        await db.guild_setup.onboard(1)
        assert await db.guild_configs.get_prefix(1) == "$"
        shown = [repr(db), str(db), repr(db.settings), str(db.settings)]
        shown += [repr(db.client), db.client.safe_url, repr(db.cache)]
    assert leaks(*shown) == []
    assert log_text, "nothing was logged: the capture is not working"
    assert leaks(*log_text) == []


async def test_errors_show_no_password(log_text: list[str]) -> None:
    db = Database(PG_UNREACHABLE, REDIS_UNREACHABLE)
    try:
        with pytest.raises(DatabaseError) as caught:
            await db.connect()
    finally:
        await db.close()
    assert leaks(chain(caught.value), repr(caught.value)) == []
    assert leaks(*log_text) == []


def test_the_cli_shows_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUX_DB_DATABASE_URL", PG_UNREACHABLE)
    monkeypatch.setenv("TUX_DB_REDIS_URL", REDIS_UNREACHABLE)
    for command in (["health"], ["migrate", "upgrade"], ["doctor"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code != 0, command
        shown = result.output + (chain(result.exception) if result.exception else "")
        assert leaks(shown) == [], command


@pytest.mark.parametrize("backend", ["postgresql"])
def test_doctor_on_a_working_database_shows_no_password(
    backend: str, database_url: str, tmp_path: Path
) -> None:
    url = database_url.replace("://postgres@", f"://postgres:{SECRET}@", 1)
    redis_url = REDIS_URL.replace("redis://", f"redis://:{REDIS_SECRET}@", 1)
    report = tmp_path / "doctor.json"
    result = CliRunner().invoke(
        app, ["doctor", "--database-url", url, "--redis-url", redis_url, "--json", str(report)]
    )
    assert "doctor" in result.output
    assert leaks(result.output, report.read_text(encoding="utf-8")) == []
