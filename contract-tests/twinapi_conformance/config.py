"""The harness configuration (conformance.toml): everything specific to one API and its implementations."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Where a project (and the kit) keeps it, from the project root that make runs in.
DEFAULT_CONFIG = Path("contract-tests/conformance.toml")


class ConfigError(ValueError):
    """The configuration file is missing a key or holds a value of the wrong shape."""


@dataclass(frozen=True)
class Implementation:
    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]


@dataclass(frozen=True)
class ServerSettings:
    env: dict[str, str]
    readiness_path: str
    startup_timeout: float
    stop_timeout: float


@dataclass(frozen=True)
class AuthStep:
    operation: str
    body: Any
    expect_status: int
    token_pointer: str | None


@dataclass(frozen=True)
class AuthSettings:
    """Where the harness gets its token: exactly one of `steps` (the spec's own operations, e.g. register then log
    in), `token` (a static one) or `token_from_env` (an environment variable the run is started with, e.g. an OAuth 2
    access token obtained outside the API)."""

    scheme: str
    # Schemathesis reads the token from this environment variable (see the Schemathesis config file).
    token_env: str
    header: str
    # `{token}` is replaced by the token.
    header_value: str
    steps: list[AuthStep]
    token: str | None = None
    token_from_env: str | None = None


@dataclass(frozen=True)
class Budget:
    seed: int
    max_examples: int
    deep_max_examples: int
    diff_examples: int
    diff_sequences: int
    request_timeout: float
    run_timeout: float


@dataclass(frozen=True)
class NormaliseRule:
    why: str
    placeholder: str
    # Exactly one of the two: a regex replaced inside every compared string, or a JSON pointer (`*` = any key/index).
    pattern: re.Pattern[str] | None
    pointer: tuple[str, ...] | None
    # Correlated values are numbered by first appearance, so "the same id twice" is still compared.
    correlate: bool
    # With a pointer at an array: compare its items as a set (sorted, duplicates dropped) instead of a placeholder.
    as_set: bool = False


@dataclass(frozen=True)
class DiffSettings:
    extra_headers: list[str]
    rules: list[NormaliseRule]
    vectors: Path
    max_reported: int


@dataclass(frozen=True)
class Unobservable:
    """A documented status the harness cannot make an implementation answer, declared with the reason."""

    operation: str  # operationId
    status: str  # as the spec writes it: "413", "4XX", "default"
    why: str


@dataclass(frozen=True)
class CoverageSettings:
    # Whether a documented status that no stage observed fails `ci` (it is always reported).
    require_every_status: bool
    unobservable: list[Unobservable]


@dataclass(frozen=True)
class Config:
    path: Path
    # The generated contract document (contract.json), whose `spec` is the spec as both servers read it.
    contract: Path
    schemathesis_config: Path
    reports: Path
    implementations: dict[str, Implementation]
    server: ServerSettings
    auth: AuthSettings | None
    budget: Budget
    diff: DiffSettings
    interop: Path | None
    coverage: CoverageSettings = CoverageSettings(require_every_status=False, unobservable=[])


def load(path: Path = DEFAULT_CONFIG) -> Config:
    path = path.resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    base = path.parent
    impls = _table(data, "implementations")
    if len(impls) != 2:
        raise ConfigError("[implementations] must name exactly two implementations")
    if "contract" not in data and "spec" in data:
        raise ConfigError(
            f"{path}: `spec` is no longer read. The harness fuzzes the generated contract document, the spec as both "
            'servers read it: replace `spec = ...` with `contract = "../python-impl/app/generated/contract.json"` '
            "(the path from this file to that document)"
        )
    return Config(
        path=path,
        contract=base / _str(data, "contract"),
        schemathesis_config=base / _str(data, "schemathesis_config"),
        reports=(base / _str(data, "reports")).resolve(),
        implementations={name: _implementation(name, table, base) for name, table in impls.items()},
        server=_server(_table(data, "server")),
        auth=_auth(data["auth"]) if "auth" in data else None,
        budget=_budget(_table(data, "budget")),
        diff=_diff(_table(data, "diff"), base),
        interop=base / data["interop"] if "interop" in data else None,
        coverage=_coverage(data.get("coverage", {})),
    )


def _coverage(table: dict[str, Any]) -> CoverageSettings:
    unobservable = []
    for entry in table.get("unobservable", []):
        if not entry.get("why"):
            raise ConfigError(f"coverage.unobservable {entry!r}: say why the harness cannot observe this status")
        unobservable.append(
            Unobservable(operation=_str(entry, "operation"), status=_str(entry, "status"), why=entry["why"])
        )
    return CoverageSettings(
        require_every_status=bool(table.get("require_every_status", False)), unobservable=unobservable
    )


def _implementation(name: str, table: dict[str, Any], base: Path) -> Implementation:
    command = table.get("command")
    if not isinstance(command, list) or not command or not all(isinstance(part, str) for part in command):
        raise ConfigError(f"implementations.{name}.command must be a non-empty list of strings")
    return Implementation(name=name, command=command, cwd=base / _str(table, "cwd"), env=_env(table))


def _server(table: dict[str, Any]) -> ServerSettings:
    return ServerSettings(
        env=_env(table),
        readiness_path=_str(table, "readiness_path"),
        startup_timeout=float(table.get("startup_timeout", 60)),
        stop_timeout=float(table.get("stop_timeout", 10)),
    )


def _auth(table: dict[str, Any]) -> AuthSettings:
    steps = [
        AuthStep(
            operation=_str(step, "operation"),
            body=step.get("body"),
            expect_status=int(step["expect_status"]),
            token_pointer=step.get("token_pointer"),
        )
        for step in table.get("steps", [])
    ]
    given = [key for key in ("steps", "token", "token_from_env") if key in table]
    if len(given) != 1:
        raise ConfigError(
            "[auth] needs exactly one source of its token: `steps` (the spec's operations that obtain one), `token` "
            f"(a static token) or `token_from_env` (the environment variable holding one); it has {given or 'none'}"
        )
    if "steps" in table and (not steps or steps[-1].token_pointer is None):
        raise ConfigError("auth.steps must end with a step that has token_pointer")
    token = _str(table, "token") if "token" in table else None
    token_from_env = _str(table, "token_from_env") if "token_from_env" in table else None
    header_value = table.get("header_value", "Bearer {token}")
    if not isinstance(header_value, str) or "{token}" not in header_value:
        raise ConfigError(f"auth.header_value must contain {{token}}: {header_value!r}")
    return AuthSettings(
        scheme=_str(table, "scheme"),
        token_env=table.get("token_env", "TWINAPI_CONFORMANCE_TOKEN"),
        header=table.get("header", "Authorization"),
        header_value=header_value,
        steps=steps,
        token=token,
        token_from_env=token_from_env,
    )


def _budget(table: dict[str, Any]) -> Budget:
    return Budget(
        seed=int(table["seed"]),
        max_examples=int(table["max_examples"]),
        deep_max_examples=int(table["deep_max_examples"]),
        diff_examples=int(table["diff_examples"]),
        diff_sequences=int(table["diff_sequences"]),
        request_timeout=float(table.get("request_timeout", 10)),
        run_timeout=float(table.get("run_timeout", 600)),
    )


def _diff(table: dict[str, Any], base: Path) -> DiffSettings:
    rules = []
    for rule in table.get("normalise", []):
        pattern, pointer = rule.get("pattern"), rule.get("pointer")
        if (pattern is None) == (pointer is None):
            raise ConfigError(f"diff.normalise {rule!r}: give exactly one of pattern or pointer")
        if not rule.get("why"):
            raise ConfigError(f"diff.normalise {rule!r}: say why the value legitimately differs")
        as_set = bool(rule.get("as_set", False))
        if as_set and pointer is None:
            raise ConfigError(f"diff.normalise {rule!r}: as_set needs a pointer at an array")
        rules.append(
            NormaliseRule(
                why=rule["why"],
                placeholder="" if as_set else _str(rule, "placeholder"),
                pattern=re.compile(pattern) if pattern is not None else None,
                pointer=tuple(pointer.split("/")[1:]) if pointer is not None else None,
                correlate=bool(rule.get("correlate", False)),
                as_set=as_set,
            )
        )
    return DiffSettings(
        extra_headers=[name.lower() for name in table.get("extra_headers", [])],
        rules=rules,
        vectors=base / _str(table, "vectors"),
        max_reported=int(table.get("max_reported", 10)),
    )


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}] is missing")
    return value


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} must be a non-empty string")
    return value


def _env(table: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in table.get("env", {}).items()}
