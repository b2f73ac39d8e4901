"""The server's settings, read from the environment under the names CONVENTIONS.md gives them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# examples/realworld: the folder holding db/migrations, from which a relative DATABASE_PATH is taken.
PROJECT_ROOT = Path(__file__).resolve().parents[3]
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    """Every variable has a default but JWT_SECRET, which only development may leave out."""

    model_config = SettingsConfigDict(case_sensitive=True, frozen=True, extra="ignore")

    host: str = Field(default="127.0.0.1", validation_alias="HOST")
    port: int = Field(default=8000, ge=0, le=65535, validation_alias="PORT")
    database_path: Path = Field(default=Path("data/conduit.db"), validation_alias="DATABASE_PATH")
    jwt_secret: SecretStr | None = Field(default=None, validation_alias="JWT_SECRET")
    jwt_ttl_seconds: int = Field(default=86400, ge=1, validation_alias="JWT_TTL_SECONDS")
    bcrypt_rounds: int = Field(default=10, ge=4, le=31, validation_alias="BCRYPT_ROUNDS")
    app_env: Literal["production", "development", "test"] = Field(default="production", validation_alias="APP_ENV")
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", validation_alias="LOG_LEVEL")

    @field_validator("port", "jwt_ttl_seconds", "bcrypt_rounds", mode="before")
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
