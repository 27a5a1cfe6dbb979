"""No pickle anywhere: nothing imports a pickle-like module, and Redis values are decoded by msgspec only.

The behavioural half plants a pickle payload whose unpickling would call :func:`_trip` in every
Redis key a real cache wrote, then reads through a fresh process-level cache: the planted bytes must be
refused (a miss, answered from the database) and ``_trip`` never called.
"""

from __future__ import annotations

import ast
import uuid
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from tests.caching.conftest import PrivateRedis
from tests.conftest import STEADY_CACHE
from tux.database import Database

ROOT = Path(__file__).resolve().parents[2]
PICKLERS = frozenset(
    {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "jsonpickle", "shelve", "marshal"}
)
TRIPPED: list[str] = []


def _trip() -> None:
    TRIPPED.append("unpickled")


PAYLOAD = f"c{__name__}\n_trip\n(tR.".encode()
"""Protocol-0 pickle of a call to :func:`_trip` (written by hand: this file imports no pickle module)."""


def _called_name(call: ast.Call) -> str | None:
    return call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)


def imported_modules(source: str) -> set[str]:
    modules: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None:
            modules.add(node.module.split(".")[0])
        elif isinstance(node, ast.Call) and _called_name(node) in ("__import__", "import_module"):
            modules.update(
                arg.value.split(".")[0]
                for arg in node.args
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
            )
    return modules


def test_no_module_imports_a_pickler() -> None:
    folders = ("src", "tests", "benchmarks", "examples")
    files = [file for folder in folders for file in (ROOT / folder).rglob("*.py")]
    assert len(files) > 50
    offenders = {
        file.relative_to(ROOT).as_posix(): sorted(
            imported_modules(file.read_text(encoding="utf-8")) & PICKLERS
        )
        for file in files
    }
    assert {path: found for path, found in offenders.items() if found} == {}


def test_the_import_scan_sees_every_form() -> None:
    source = "import pickle\nfrom dill import loads\nimportlib.import_module('cloudpickle')\n"
    assert imported_modules(source) & PICKLERS == {"pickle", "dill", "cloudpickle"}


@pytest.mark.parametrize("backend", ["postgresql"])
async def test_planted_pickles_are_never_unpickled(
    backend: str, database_url: str, private_redis: PrivateRedis
) -> None:
    namespace = f"tuxsec-{uuid.uuid4().hex[:8]}"
    options = {"redis_namespace": namespace, "cache_options": STEADY_CACHE}
    async with Database(database_url, private_redis.url, **options) as writer:
        await writer.guild_setup.onboard(1, prefix="?")
        await writer.snippet_service.create(1, "rules", "be nice", 7)
        assert await writer.guild_configs.get_prefix(1) == "?"
        assert (await writer.snippets.find_by_name(1, "rules")) is not None
    raw = aioredis.Redis.from_url(private_redis.url)
    try:
        keys = [key async for key in raw.scan_iter(match=f"{namespace}:*")]
        planted = [key for key in keys if await raw.type(key) == b"string"]
        assert planted, "the cache stored nothing in Redis"
        for key in planted:
            await raw.set(key, PAYLOAD, keepttl=True)
    finally:
        await raw.aclose()
    async with Database(database_url, private_redis.url, **options) as reader:
        assert await reader.guild_configs.get_prefix(1) == "?"
        snippet = await reader.snippets.find_by_name(1, "rules")
        assert snippet is not None
        assert snippet.snippet_content == "be nice"
    assert TRIPPED == []
