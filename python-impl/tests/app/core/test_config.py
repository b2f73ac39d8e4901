import os
from pathlib import Path

import pytest

from app.core.config import REPO_ROOT, ConfigError, Pool, Settings, load_settings

SECRET = "test-secret-that-is-at-least-32-bytes-long"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    settings = load_settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.database == REPO_ROOT / "data" / "app.db"
    assert settings.jwt_secret is not None and settings.jwt_secret.get_secret_value() == SECRET
    assert (settings.jwt_ttl_seconds, settings.bcrypt_rounds) == (3600, 12)
    assert (settings.log_level, settings.app_env) == ("info", "production")


def test_values_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "HOST": "0.0.0.0",
        "PORT": "0",
        "JWT_TTL_SECONDS": "1",
        "BCRYPT_ROUNDS": "31",
    }
    for name, value in {
        **values,
        "LOG_LEVEL": "debug",
        "APP_ENV": "test",
        "JWT_SECRET": SECRET,
    }.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert (
        settings.host,
        settings.port,
        settings.jwt_ttl_seconds,
        settings.bcrypt_rounds,
    ) == ("0.0.0.0", 0, 1, 31)
    assert (settings.log_level, settings.app_env) == ("debug", "test")


def test_database_url_forms(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/a.db")  # tmp_path is absolute: four slashes
    assert load_settings().database == tmp_path / "a.db"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///rel/b.db")
    assert load_settings().database == tmp_path / "rel" / "b.db"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "abc"),
        ("PORT", "65536"),
        ("PORT", "-1"),
        ("PORT", " 80"),
        ("PORT", "80.0"),
        ("JWT_TTL_SECONDS", "0"),
        ("BCRYPT_ROUNDS", "3"),
        ("BCRYPT_ROUNDS", "32"),
        ("LOG_LEVEL", "verbose"),
        ("APP_ENV", "staging"),
        ("DATABASE_URL", "postgresql://db"),  # no database name
        ("DATABASE_URL", "postgresql:///app"),  # no host
        ("DATABASE_URL", "mysql://db/app"),
        ("DATABASE_URL", "sqlite://"),
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_POOL_TIMEOUT_SECONDS", "0"),
        ("DATABASE_CONNECT_TIMEOUT_SECONDS", "x"),
        ("DATABASE_STATEMENT_TIMEOUT_SECONDS", "3601"),
        ("DATABASE_URL", "sqlite:///:memory:"),
        ("JWT_SECRET", "31-bytes-is-one-byte-too-short!"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(f"{name}: ") and "\n" not in message
    assert value not in message or name != "JWT_SECRET"  # never echo a secret


def test_a_postgresql_url_is_kept_with_its_pool_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    url = "postgresql://app:secret@db.internal:5432/tasks?sslmode=require"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_POOL_SIZE", "25")
    settings = load_settings()
    assert settings.database == url
    assert settings.pool == Pool(size=25, acquire_timeout=5.0, connect_timeout=5.0, statement_timeout=30.0)
    monkeypatch.setenv("DATABASE_URL", "postgres://db/tasks")  # libpq's short scheme too
    assert load_settings().database == "postgres://db/tasks"


def test_a_bad_database_url_is_not_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", "postgresql://app:hunter2@db")  # a password, but no database name
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "hunter2" not in str(caught.value)


def test_jwt_secret_is_required_outside_development() -> None:
    with pytest.raises(ConfigError, match="^JWT_SECRET is required unless APP_ENV=development$"):
        load_settings()


def test_development_may_run_without_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_ENV", "development")
    assert load_settings().jwt_secret is None


def test_secret_length_counts_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "é" * 16)  # 16 characters, 32 bytes
    assert load_settings().jwt_secret is not None


def test_lowercase_names_are_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("port", "1234")
    assert Settings().port == 8000
    assert "port" in os.environ
