"""Settings from the environment, parsed the same way in every server of the kit (and in the Node kit's env.ts)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from twinapi_runtime import logs


class EnvError(ValueError):
    """A setting from the environment has a value the server cannot use."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may be and how long a connection may take; the Node kit has the same settings."""

    max_url_bytes: int = 8192
    max_header_bytes: int = 16384
    max_headers: int = 100
    max_body_bytes: int = 65536
    max_json_depth: int = 64
    header_timeout: int = 10
    body_timeout: int = 30
    keep_alive_timeout: int = 5
    shutdown_drain: int = 20

    @property
    def max_head_bytes(self) -> int:
        """The whole request head (request line, names, values, separators) beyond which parsing stops at once."""
        return self.max_url_bytes + self.max_header_bytes + 4 * self.max_headers + 1024


# Each setting: its variable, the smallest and largest value it may take.
LIMIT_VARIABLES: dict[str, tuple[str, int, int]] = {
    "max_url_bytes": ("MAX_URL_BYTES", 256, 1 << 20),
    "max_header_bytes": ("MAX_HEADER_BYTES", 1024, 1 << 20),
    "max_headers": ("MAX_HEADERS", 8, 1000),
    "max_body_bytes": ("MAX_BODY_BYTES", 1, 1 << 30),
    "max_json_depth": ("MAX_JSON_DEPTH", 1, 256),
    "header_timeout": ("HEADER_TIMEOUT_SECONDS", 1, 3600),
    "body_timeout": ("BODY_TIMEOUT_SECONDS", 1, 3600),
    "keep_alive_timeout": ("KEEP_ALIVE_TIMEOUT_SECONDS", 1, 3600),
    "shutdown_drain": ("SHUTDOWN_DRAIN_SECONDS", 1, 3600),
}


def _integer(env: Mapping[str, str], name: str, fallback: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None:
        return fallback
    if not raw.isascii() or not raw.isdigit() or not low <= int(raw) <= high:
        raise EnvError(f"{name} must be an integer from {low} to {high}, not {raw!r}")
    return int(raw)


def limits_from_env(env: Mapping[str, str] | None = None) -> Limits:
    source = os.environ if env is None else env
    defaults = Limits()
    return Limits(
        **{
            field: _integer(source, name, getattr(defaults, field), low, high)
            for field, (name, low, high) in LIMIT_VARIABLES.items()
        }
    )


def port_from_env(default: int) -> int:
    raw = os.environ.get("PORT", str(default))
    if not raw.isdigit() or int(raw) > 65535:
        raise EnvError(f"PORT must be a whole number from 0 to 65535, not {raw!r}")
    return int(raw)


def log_level_from_env() -> str:
    level = os.environ.get("LOG_LEVEL", "info").lower()
    if level not in logs.LEVELS:
        raise EnvError(f"LOG_LEVEL must be one of {', '.join(logs.LEVELS)}, not {level!r}")
    return level
