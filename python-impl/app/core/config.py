"""Settings from the environment, parsed exactly as CONVENTIONS.md says (the Node server parses the same way)."""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[3]

_DECIMAL = re.compile(r"[0-9]+")


def _decimal(value: object) -> object:
    # Only plain ASCII digits: pydantic's lax int would also take " 8000", "8_000" or "8000.0".
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value):
            raise PydanticCustomError("decimal", "must be a decimal integer")
        return int(value)
    return value


def _in_range(low: int, high: int | None) -> AfterValidator:
    def check(value: int) -> int:
        if value < low or (high is not None and value > high):
            bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
            raise PydanticCustomError("range", "must be {bounds}", {"bounds": bounds})
        return value

    return AfterValidator(check)


_POSTGRES_URL = re.compile(r"postgres(ql)?://[^/?#\s]+/[^/?#\s]+(\?[^#\s]*)?")
_DATABASE_URL_FORMS = (
    "must be sqlite:///<relative path>, sqlite:////<absolute path> or postgresql://<user>@<host>:<port>/<database>"
)


def _database(url: object) -> object:
    # SQLAlchemy's SQLite form: sqlite:///relative.db (from the cwd) or sqlite:////absolute.db: a Path.
    # libpq's URL form, postgresql:// (or postgres://) with a host and a database name: kept as the URL.
    if not isinstance(url, str):
        return url  # the default, already a path
    if url.startswith(("postgresql://", "postgres://")):
        if not _POSTGRES_URL.fullmatch(url):
            raise PydanticCustomError("database_url", _DATABASE_URL_FORMS)
        return url
    path = url.removeprefix("sqlite:///")
    if path == url or not path or "?" in path or path == ":memory:":
        raise PydanticCustomError("database_url", _DATABASE_URL_FORMS)
    return Path(path).absolute()


@dataclass(frozen=True, slots=True)
class Pool:
    """PostgreSQL's connection pool, per process (SQLite has one connection and ignores these)."""

    size: int  # connections at most; every instance holds up to this many of the server's max_connections
    acquire_timeout: float  # seconds a request waits for a free connection before it is answered 503
    connect_timeout: float  # seconds to open one connection
    statement_timeout: float  # seconds one statement may run before it is cancelled (and the request is a 503)


Int = Annotated[int, BeforeValidator(_decimal)]


class Settings(BaseSettings):
    """The server's configuration; a bad value raises a ValidationError located at the variable's name."""

    model_config = SettingsConfigDict(case_sensitive=True, frozen=True)

    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    port: Annotated[Int, _in_range(0, 65535)] = Field(default=8000, validation_alias="PORT")
    # A Path for SQLite, the postgresql:// URL for PostgreSQL.
    database: Annotated[Path | str, BeforeValidator(_database)] = Field(
        default=REPO_ROOT / "data" / "app.db", validation_alias="DATABASE_URL"
    )
    database_pool_size: Annotated[Int, _in_range(1, 1000)] = Field(default=10, validation_alias="DATABASE_POOL_SIZE")
    database_pool_timeout: Annotated[Int, _in_range(1, 600)] = Field(
        default=5, validation_alias="DATABASE_POOL_TIMEOUT_SECONDS"
    )
    database_connect_timeout: Annotated[Int, _in_range(1, 600)] = Field(
        default=5, validation_alias="DATABASE_CONNECT_TIMEOUT_SECONDS"
    )
    database_statement_timeout: Annotated[Int, _in_range(1, 3600)] = Field(
        default=30, validation_alias="DATABASE_STATEMENT_TIMEOUT_SECONDS"
    )
    # None only when APP_ENV=development: the app then makes up a secret for this process and warns.
    jwt_secret: SecretStr | None = Field(default=None, validation_alias="JWT_SECRET")
    jwt_ttl_seconds: Annotated[Int, _in_range(1, None)] = Field(default=3600, validation_alias="JWT_TTL_SECONDS")
    bcrypt_rounds: Annotated[Int, _in_range(4, 31)] = Field(default=12, validation_alias="BCRYPT_ROUNDS")
    # Login throttling: failures within one window, per account and per client address, before 429.
    login_max_failures: Annotated[Int, _in_range(1, None)] = Field(default=10, validation_alias="LOGIN_MAX_FAILURES")
    login_max_address_failures: Annotated[Int, _in_range(1, None)] = Field(
        default=100, validation_alias="LOGIN_MAX_ADDRESS_FAILURES"
    )
    login_failure_window: Annotated[Int, _in_range(1, None)] = Field(
        default=900, validation_alias="LOGIN_FAILURE_WINDOW_SECONDS"
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", validation_alias="LOG_LEVEL")
    app_env: Literal["production", "development", "test"] = Field(default="production", validation_alias="APP_ENV")

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise PydanticCustomError("jwt_secret", "must be at least 32 bytes")
        return value

    @model_validator(mode="after")
    def _secret_required(self) -> Self:
        if self.jwt_secret is None and self.app_env != "development":
            raise PydanticCustomError("jwt_secret", "JWT_SECRET is required unless APP_ENV=development")
        return self

    @property
    def pool(self) -> Pool:
        return Pool(
            size=self.database_pool_size,
            acquire_timeout=float(self.database_pool_timeout),
            connect_timeout=float(self.database_connect_timeout),
            statement_timeout=float(self.database_statement_timeout),
        )


class ConfigError(Exception):
    """A bad environment variable; the message is one line naming each bad variable."""


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        # Field errors are located at the variable; the model-level one names it in its message.
        lines = (f"{e['loc'][0]}: {e['msg']}" if e["loc"] else e["msg"] for e in exc.errors())
        raise ConfigError("; ".join(lines)) from None
