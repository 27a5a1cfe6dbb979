"""Settings: defaults, environment, and secrets that never show."""

from __future__ import annotations

from pathlib import Path

import pytest

from tux.database.exceptions import ConfigurationError
from tux.database.facade import Database, build_settings
from tux.database.settings import DatabaseSettings, redact_url

SECRET_URL = "postgresql+asyncpg://tux:hunter2@127.0.0.1:5432/tux"


def test_default_is_a_sqlite_file_under_the_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUX_DB_DATABASE_URL", raising=False)
    settings = DatabaseSettings(data_dir=tmp_path)
    assert settings.database_url_value() == f"sqlite+aiosqlite:///{(tmp_path / 'tux.sqlite3').as_posix()}"
    assert settings.redis_url_value() is None


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUX_DB_DATABASE_URL", SECRET_URL)
    monkeypatch.setenv("TUX_DB_POOL_SIZE", "7")
    monkeypatch.setenv("TUX_DB_SLOW_QUERY_THRESHOLD_MS", "250")
    settings = DatabaseSettings()
    assert settings.database_url_value() == SECRET_URL
    assert settings.pool_size == 7
    assert settings.slow_query_threshold_ms == 250


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TUX_DB_REDIS_URL", raising=False)
    (tmp_path / ".env").write_text("TUX_DB_REDIS_URL=redis://:pw@127.0.0.1:6379/3\n")
    assert DatabaseSettings().redis_url_value() == "redis://:pw@127.0.0.1:6379/3"


def test_passwords_never_appear_in_repr_or_logs() -> None:
    settings = DatabaseSettings(database_url=SECRET_URL, redis_url="redis://:redispw@127.0.0.1:6379/0")
    assert "hunter2" not in repr(settings)
    assert "redispw" not in repr(settings)
    assert "hunter2" not in redact_url(SECRET_URL)
    database = Database(SECRET_URL)
    assert "hunter2" not in repr(database)
    assert "hunter2" not in repr(database.client)
    assert "hunter2" not in database.client.safe_url


def test_unknown_or_invalid_overrides_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="pool_sise"):
        build_settings(None, None, {"pool_sise": 3})
    with pytest.raises(ConfigurationError, match="pool_size"):
        build_settings(None, None, {"pool_size": 0})
    with pytest.raises(ConfigurationError, match="redis_namespace"):
        build_settings(None, None, {"redis_namespace": "a:b"})


def test_unsupported_driver_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="unsupported driver"):
        Database("mysql://root@127.0.0.1/test")
