"""Alembic environment: runs migrations on a given connection, or connects itself for the CLI.

The library passes an open, in-transaction connection via ``config.attributes["connection"]`` (see
:mod:`tux.database.migrations.runner`). From the ``alembic`` command line the URL comes from
``-x url=...``, else the ``sqlalchemy.url`` option, else ``TUX_DB_DATABASE_URL``/the default settings.
"""

from __future__ import annotations

import asyncio
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection

from tux.database.core.engine import create_engine, normalize_url
from tux.database.migrations.runner import context_options, lock_for_migration
from tux.database.settings import DatabaseSettings

config = context.config


def _url() -> str:
    from_cli = context.get_x_argument(as_dictionary=True).get("url")
    return from_cli or config.get_main_option("sqlalchemy.url") or DatabaseSettings().database_url_value()


def _run_on(connection: Connection) -> None:
    context.configure(connection=connection, **context_options())
    with context.begin_transaction():
        context.run_migrations()


def _lock_and_run_on(connection: Connection) -> None:
    lock_for_migration(connection)
    _run_on(connection)


async def _run_on_own_engine() -> None:
    engine = create_engine(normalize_url(_url()), DatabaseSettings())
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_lock_and_run_on)
    finally:
        await engine.dispose()


def _run_offline() -> None:
    context.configure(
        url=normalize_url(_url()),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **context_options(),
    )
    with context.begin_transaction():
        context.run_migrations()


if config.config_file_name is not None and config.file_config.has_section("loggers"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    _run_offline()
elif (given := config.attributes.get("connection")) is not None:
    _run_on(given)
else:
    asyncio.run(_run_on_own_engine())
