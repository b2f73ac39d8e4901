"""The server's settings, read from the environment under the names CONVENTIONS.md gives them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# examples/realworld: the folder holding db/migrations, from which a relative DATABASE_PATH is taken.
PROJECT_ROOT = Path(__file__).resolve().parents[3]
MIN_SECRET_BYTES = 32
# libpq's URL form with a host and a database name; the value is never echoed (it may hold a password).
_POSTGRES_URL = re.compile(r"postgres(ql)?://[^/?#\s]+/[^/?#\s]+(\?[^#\s]*)?")
_DATABASE_URL_FORMS = (
    "must be sqlite:///<path from the project folder>, sqlite:////<absolute path>"
    " or postgresql://<user>@<host>:<port>/<database>"
)


@dataclass(frozen=True, slots=True)
class Pool:
    """PostgreSQL's connection pool, per process (SQLite has one connection and ignores these)."""

    size: int  # connections at most; every instance holds up to this many of the server's max_connections
    acquire_timeout: float  # seconds a request waits for a free connection before it is answered 503
    connect_timeout: float  # seconds to open one connection
    statement_timeout: float  # seconds one statement may run before it is cancelled (and the request is a 503)


class Settings(BaseSettings):
    """Every variable has a default but JWT_SECRET, which only development may leave out."""

    model_config = SettingsConfigDict(case_sensitive=True, frozen=True, extra="ignore")

    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    port: int = Field(default=8000, ge=0, le=65535, validation_alias="PORT")
    database_path: Path = Field(default=Path("data/conduit.db"), validation_alias="DATABASE_PATH")
    # sqlite:///... or postgresql://...; DATABASE_PATH is the SQLite file when it is not set.
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    database_pool_size: int = Field(default=10, ge=1, le=1000, validation_alias="DATABASE_POOL_SIZE")
    database_pool_timeout: int = Field(default=5, ge=1, le=600, validation_alias="DATABASE_POOL_TIMEOUT_SECONDS")
    database_connect_timeout: int = Field(default=5, ge=1, le=600, validation_alias="DATABASE_CONNECT_TIMEOUT_SECONDS")
    database_statement_timeout: int = Field(
        default=30, ge=1, le=3600, validation_alias="DATABASE_STATEMENT_TIMEOUT_SECONDS"
    )
    jwt_secret: SecretStr | None = Field(default=None, validation_alias="JWT_SECRET")
    jwt_ttl_seconds: int = Field(default=86400, ge=1, validation_alias="JWT_TTL_SECONDS")
    bcrypt_rounds: int = Field(default=10, ge=4, le=31, validation_alias="BCRYPT_ROUNDS")
    app_env: Literal["production", "development", "test"] = Field(default="production", validation_alias="APP_ENV")
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", validation_alias="LOG_LEVEL")

    @field_validator(
        "port",
        "jwt_ttl_seconds",
        "bcrypt_rounds",
        "database_pool_size",
        "database_pool_timeout",
        "database_connect_timeout",
        "database_statement_timeout",
        mode="before",
    )
    @classmethod
    def _digits_only(cls, value: object) -> object:
        # Pydantic would also read " 10", "1_0" and "10.0" as 10; the Node server reads only plain digits.
        if isinstance(value, str) and not (value.isascii() and value.isdigit()):
            raise ValueError("must be a whole number written in digits")
        return value

    @field_validator("database_path", mode="before")
    @classmethod
    def _a_file_name(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must name a file")
        return value

    @field_validator("database_path", mode="after")
    @classmethod
    def _from_project_root(cls, value: Path) -> Path:
        return PROJECT_ROOT / value  # an absolute path stays as it is

    @field_validator("database_url", mode="after")
    @classmethod
    def _a_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if value.startswith(("postgresql://", "postgres://")):
            if not _POSTGRES_URL.fullmatch(value):
                raise ValueError(_DATABASE_URL_FORMS)
            return value
        path = value.removeprefix("sqlite:///")
        if path == value or not path.strip() or "?" in path or path == ":memory:":
            raise ValueError(_DATABASE_URL_FORMS)
        return value

    @field_validator("jwt_secret", mode="after")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"must be at least {MIN_SECRET_BYTES} bytes")
        return value

    @model_validator(mode="after")
    def _secret_outside_development(self) -> Self:
        if self.jwt_secret is None and self.app_env != "development":
            raise ValueError("JWT_SECRET is required unless APP_ENV=development")
        return self

    @model_validator(mode="after")
    def _one_database(self) -> Self:
        if self.database_url is not None and "database_path" in self.model_fields_set:
            raise ValueError("set DATABASE_URL or DATABASE_PATH, not both")
        return self

    @property
    def database(self) -> Path | str:
        """The SQLite file (absolute), or the PostgreSQL URL."""
        url = self.database_url
        if url is None:
            return self.database_path
        if url.startswith("sqlite:///"):
            return PROJECT_ROOT / url.removeprefix("sqlite:///")  # an absolute path stays as it is
        return url

    @property
    def pool(self) -> Pool:
        return Pool(
            size=self.database_pool_size,
            acquire_timeout=float(self.database_pool_timeout),
            connect_timeout=float(self.database_connect_timeout),
            statement_timeout=float(self.database_statement_timeout),
        )


class ConfigError(Exception):
    """One line naming every variable that holds a bad value."""

    def __init__(self, refused: ValidationError) -> None:
        lines = []
        for error in refused.errors(include_url=False):
            text = error["msg"].removeprefix("Value error, ")
            lines.append(f"{error['loc'][0]}: {text}" if error["loc"] else text)
        super().__init__("; ".join(lines))


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        raise ConfigError(exc) from None
