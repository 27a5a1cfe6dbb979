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


def test_arguments_win_over_the_environment_which_wins_over_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("TUX_DB_POOL_SIZE=3\nTUX_DB_MAX_OVERFLOW=4\nexport TUX_DB_ECHO='on'\n")
    monkeypatch.setenv("tux_db_pool_size", "5")
    monkeypatch.setenv("TUX_DB_MAX_OVERFLOW", "6")
    settings = DatabaseSettings(max_overflow=8)
    assert (settings.pool_size, settings.max_overflow, settings.echo) == (5, 8, True)


def test_environment_text_is_converted_by_field_type(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TUX_DB_CACHE_ENABLED", "off")
    monkeypatch.setenv("TUX_DB_CACHE_POLICIES", '{"guild_config": {"ttl": 600}}')
    monkeypatch.setenv("TUX_DB_DATA_DIR", "/var/lib/tux")
    monkeypatch.setenv("TUX_DB_POOL_TIMEOUT", "2.5")
    settings = DatabaseSettings()
    assert settings.cache_enabled is False
    assert settings.cache_policies == {"guild_config": {"ttl": 600}}
    assert settings.data_dir == Path("/var/lib/tux")
    assert settings.pool_timeout == 2.5
    monkeypatch.setenv("TUX_DB_CACHE_OPTIONS", "{not json")
    with pytest.raises(ConfigurationError, match="cache_options"):
        DatabaseSettings()


def test_every_invalid_field_is_named_and_defaults_are_not_shared() -> None:
    with pytest.raises(ConfigurationError) as caught:
        DatabaseSettings(pool_size=501, pool_timeout=0, redis_namespace="two words", echo="maybe")
    for name in ("pool_size", "pool_timeout", "redis_namespace", "echo"):
        assert name in str(caught.value)
    first, second = DatabaseSettings(), DatabaseSettings()
    first.cache_options["memory_max_entries"] = 10
    assert second.cache_options == {}
    assert first == DatabaseSettings(cache_options={"memory_max_entries": 10})
    assert {"pool_size", "database_url", "cache_policies"} <= set(DatabaseSettings.model_fields)


def test_urls_are_secrets_that_read_back() -> None:
    settings = DatabaseSettings(database_url=SECRET_URL)
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == SECRET_URL
    assert "hunter2" not in str(settings.database_url)
    assert DatabaseSettings(database_url=settings.database_url).database_url_value() == SECRET_URL
