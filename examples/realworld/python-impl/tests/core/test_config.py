from pathlib import Path

import pytest

from app.core.config import PROJECT_ROOT, ConfigError, load_settings

SECRET = "s" * 32


def test_defaults_with_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    settings = load_settings()
    assert (settings.host, settings.port, settings.bcrypt_rounds, settings.jwt_ttl_seconds) == (
        "127.0.0.1",
        8000,
        10,
        86400,
    )
    assert settings.database_path == PROJECT_ROOT / "data" / "conduit.db"
    assert settings.app_env == "production"


def test_a_relative_database_path_is_taken_from_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_PATH", "elsewhere/x.db")
    assert load_settings().database_path == PROJECT_ROOT / "elsewhere" / "x.db"
    monkeypatch.setenv("DATABASE_PATH", "/tmp/absolute.db")
    assert load_settings().database_path == Path("/tmp/absolute.db")


@pytest.mark.parametrize("env", ["production", "test", "development"])
def test_only_development_may_go_without_a_secret(monkeypatch: pytest.MonkeyPatch, env: str) -> None:
    monkeypatch.setenv("APP_ENV", env)
    if env == "development":
        assert load_settings().jwt_secret is None
    else:
        with pytest.raises(ConfigError, match="^JWT_SECRET is required unless APP_ENV=development$"):
            load_settings()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("JWT_SECRET", "s" * 31, "JWT_SECRET: must be at least 32 bytes"),
        ("PORT", "65536", "PORT: Input should be less than or equal to 65535"),
        ("PORT", " 8000", "PORT: must be a whole number written in digits"),
        ("PORT", "8_000", "PORT: must be a whole number written in digits"),
        ("BCRYPT_ROUNDS", "3", "BCRYPT_ROUNDS: Input should be greater than or equal to 4"),
        ("BCRYPT_ROUNDS", "32", "BCRYPT_ROUNDS: Input should be less than or equal to 31"),
        ("JWT_TTL_SECONDS", "0", "JWT_TTL_SECONDS: Input should be greater than or equal to 1"),
        ("APP_ENV", "staging", "APP_ENV: Input should be 'production', 'development' or 'test'"),
        ("DATABASE_PATH", " ", "DATABASE_PATH: must name a file"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == message


def test_every_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", "short")
    monkeypatch.setenv("PORT", "x")
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert str(raised.value) == "PORT: must be a whole number written in digits; JWT_SECRET: must be at least 32 bytes"
