"""Alembic migrations shipped with the package; run them with :mod:`tux.database.migrations.runner`."""
