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


def test_database_url_names_sqlite_or_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///elsewhere/x.db")
    assert load_settings().database == PROJECT_ROOT / "elsewhere" / "x.db"
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/absolute.db")
    assert load_settings().database == Path("/tmp/absolute.db")
    url = "postgresql://conduit:secret@db.internal:5432/conduit?sslmode=require"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_POOL_SIZE", "3")
    settings = load_settings()
    assert settings.database == url
    assert (settings.pool.size, settings.pool.acquire_timeout, settings.pool.statement_timeout) == (3, 5.0, 30.0)


@pytest.mark.parametrize(
    "url", ["mysql://x/y", "sqlite:///", "sqlite:///:memory:", "postgresql://host-only", "postgresql:///db", "x.db"]
)
def test_a_database_url_of_no_known_form_is_refused_without_echoing_it(
    monkeypatch: pytest.MonkeyPatch, url: str
) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert str(refused.value) == (  # the forms, never the value itself
        "DATABASE_URL: must be sqlite:///<path from the project folder>, sqlite:////<absolute path>"
        " or postgresql://<user>@<host>:<port>/<database>"
    )


def test_database_url_and_database_path_together_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///a.db")
    monkeypatch.setenv("DATABASE_PATH", "b.db")
    with pytest.raises(ConfigError, match="^set DATABASE_URL or DATABASE_PATH, not both$"):
        load_settings()


@pytest.mark.parametrize("name", ["DATABASE_POOL_SIZE", "DATABASE_POOL_TIMEOUT_SECONDS"])
def test_pool_settings_are_bounded(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("JWT_SECRET", SECRET)
    monkeypatch.setenv(name, "0")
    with pytest.raises(ConfigError, match=f"^{name}: Input should be greater than or equal to 1$"):
        load_settings()
