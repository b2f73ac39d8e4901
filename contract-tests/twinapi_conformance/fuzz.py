"""Fuzz one running implementation with the Schemathesis CLI and read its NDJSON event log back."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tomllib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from twinapi_conformance import hooks
from twinapi_conformance.config import AuthSettings, Config
from twinapi_conformance.coverage import Observations
from twinapi_conformance.http import WireRequest
from twinapi_conformance.spec import Spec

PHASES = "examples,coverage,fuzzing,stateful"
SCHEMATHESIS_HOOKS_ENV = "SCHEMATHESIS_HOOKS"
# Schemathesis makes up credentials for http and apiKey schemes, none for OAuth 2 and OpenID Connect: without `[auth]`
# the harness sends this instead, so requests reach the security handler. No real handler accepts it (the run then
# says to configure `[auth]`); a scaffolded one answers 501 to it, as to anything.
PLACEHOLDER_BEARER = "twinapi-placeholder-not-a-credential"
# Request headers that carry no information for a reproduction.
NOISE_HEADERS = {"user-agent", "accept-encoding", "accept", "connection", "content-length", "x-schemathesis-testcaseid"}


@dataclass
class Failure:
    implementation: str
    operation: str
    check: str
    title: str
    message: str
    curl: str


@dataclass
class OperationTally:
    cases: int = 0
    failures: Counter[str] = field(default_factory=Counter)


@dataclass
class FuzzResult:
    implementation: str
    returncode: int
    seed: int
    junit: Path
    operations: dict[str, OperationTally] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # per operation label, how many times it answered each status
    statuses: dict[str, Counter[int]] = field(default_factory=dict)
    # operations that answered only 401/403, and those that answered 501, with the message that says what to do
    unreached: dict[str, str] = field(default_factory=dict)
    unimplemented: dict[str, str] = field(default_factory=dict)
    # Why nothing was fuzzed (the server did not start, no token), when nothing was.
    not_run: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.failures and not self.errors and self.not_run is None

    @classmethod
    def unrun(cls, config: Config, name: str, seed: int, why: str) -> FuzzResult:
        """The result of an implementation that could not be fuzzed; its reports of an earlier run are removed, so
        nothing stale stands beside the verdict."""
        junit = config.reports / f"junit-{name}.xml"
        for stale in (junit, config.reports / f"events-{name}.ndjson"):
            stale.unlink(missing_ok=True)
        result = cls(implementation=name, returncode=-1, seed=seed, junit=junit, not_run=why)
        result.errors.append(why)
        return result

    def observe(self, observations: Observations) -> None:
        for label, counts in self.statuses.items():
            for status in counts:
                observations.add(self.implementation, label, status, "fuzz")


def run(
    config: Config,
    spec: Spec,
    *,
    name: str,
    base_url: str,
    token: str | None,
    seed: int,
    max_examples: int,
    output: IO[str] | None = None,
) -> FuzzResult:
    """Run every phase with every check against `base_url`; Schemathesis' own progress display goes to `output`."""
    config.reports.mkdir(parents=True, exist_ok=True)
    junit = config.reports / f"junit-{name}.xml"
    ndjson = config.reports / f"events-{name}.ndjson"
    env = schemathesis_environment(config, token, os.environ)
    schemathesis_config, placeholders = _schemathesis_config(config, spec)
    command = [
        sys.executable, "-m", "schemathesis.cli",
        "--config-file", str(schemathesis_config),
        "run", str(spec.write_json(config.reports / "contract-spec.json")),
        "--url", base_url,
        "--phases", PHASES,
        "--seed", str(seed),
        "--max-examples", str(max_examples),
        "--continue-on-failure",
        "--workers", "1",  # more workers crashed inside Hypothesis here
        "--request-timeout", str(config.budget.request_timeout),
        "--report", "junit,ndjson",
        "--report-junit-path", str(junit),
        "--report-ndjson-path", str(ndjson),
    ]  # fmt: skip
    try:
        completed = subprocess.run(  # noqa: S603 - fixed command line
            command, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=config.budget.run_timeout, check=False
        )
        returncode = completed.returncode
    except subprocess.TimeoutExpired:
        returncode = -1
    result = FuzzResult(implementation=name, returncode=returncode, seed=seed, junit=junit)
    if placeholders:
        result.notes.append(
            f"no [auth] configured: {', '.join(placeholders)} got a placeholder bearer token, so requests reach the "
            "security handlers (Schemathesis makes up no OAuth 2 or OpenID Connect credentials)"
        )
    if returncode == -1:
        result.errors.append(f"Schemathesis did not finish within {config.budget.run_timeout}s")
    if ndjson.exists():
        read_events(ndjson, result, base_url=base_url, auth=config.auth)
        judge_reach(result, spec, config)
    else:
        result.errors.append(f"Schemathesis wrote no event log (exit code {returncode})")
    if returncode not in (0, -1) and not result.failures and not result.errors:
        result.errors.append(f"Schemathesis exited with {returncode}; see its output above")
    return result


def schemathesis_environment(config: Config, token: str | None, environ: Mapping[str, str]) -> dict[str, str]:
    """The Schemathesis process's environment: the token where its configuration reads it, and the harness's hooks
    (twinapi_conformance/hooks.py), which load a hooks module the project named itself after their own."""
    env = dict(environ)
    if config.auth is not None and token is not None:
        env[config.auth.token_env] = token
    if env.get(SCHEMATHESIS_HOOKS_ENV):
        env[hooks.PROJECT_HOOKS_ENV] = env[SCHEMATHESIS_HOOKS_ENV]
    env[SCHEMATHESIS_HOOKS_ENV] = hooks.__name__
    return env


def _schemathesis_config(config: Config, spec: Spec) -> tuple[Path, list[str]]:
    """The project's Schemathesis configuration, completed where it is silent (written beside the reports; with the
    names given a placeholder):
    - with `[auth]`, its scheme gets the harness's token (`${token_env}`) unless the file configures that scheme;
    - without `[auth]`, every OAuth 2 and OpenID Connect scheme it configures no credential for gets a placeholder
      bearer."""
    text = config.schemathesis_config.read_text(encoding="utf-8")
    configured = tomllib.loads(text).get("auth", {}).get("openapi", {})
    schemes = (spec.raw.get("components") or {}).get("securitySchemes") or {}
    tables: dict[str, dict[str, str]] = {}
    names: list[str] = []
    if config.auth is not None:
        if config.auth.scheme not in configured:
            credential = _credential(config, schemes.get(config.auth.scheme))
            if credential is not None:
                tables[config.auth.scheme] = credential
    else:
        names = [
            name
            for name, scheme in schemes.items()
            if isinstance(scheme, dict) and scheme.get("type") in ("oauth2", "openIdConnect") and name not in configured
        ]
        tables = {name: {"bearer": PLACEHOLDER_BEARER} for name in names}
    if not tables:
        return config.schemathesis_config, []
    written = "".join(
        f"\n[auth.openapi.{json.dumps(name)}]\n"
        + "".join(f"{key} = {json.dumps(value)}\n" for key, value in table.items())
        for name, table in tables.items()
    )
    why = (
        f"the token of [auth] in {config.path.name}"
        if config.auth is not None
        else f"no [auth] in {config.path.name}: see PLACEHOLDER_BEARER in fuzz.py"
    )
    path = config.reports / "schemathesis.toml"
    path.write_text(f"{text}\n# Added by the harness ({why}).{written}", encoding="utf-8")
    return path, names


def _credential(config: Config, scheme: Any) -> dict[str, str] | None:
    """How Schemathesis sends the `[auth]` token for one security scheme: the token as a bearer (OAuth 2, OpenID
    Connect, http bearer) or the header's whole value as an API key; None for what it cannot carry (http basic)."""
    assert config.auth is not None
    if not isinstance(scheme, dict):
        return None
    variable = "${" + config.auth.token_env + "}"
    kind = scheme.get("type")
    bearer = config.auth.header.lower() == "authorization" and config.auth.header_value == "Bearer {token}"
    if bearer and (
        kind in ("oauth2", "openIdConnect") or (kind == "http" and scheme.get("scheme", "").lower() == "bearer")
    ):
        return {"bearer": variable}
    if kind == "apiKey" and str(scheme.get("name", "")).lower() == config.auth.header.lower():
        return {"api_key": config.auth.header_value.replace("{token}", variable)}
    return None


def read_events(path: Path, result: FuzzResult, *, base_url: str, auth: AuthSettings | None = None) -> None:
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            ((kind, event),) = json.loads(line).items()
            if kind in ("ScenarioFinished", "FuzzScenarioFinished"):
                # Stateful scenarios span operations; elsewhere the scenario label names the operation, including
                # its probes with undocumented methods.
                own_label = kind == "ScenarioFinished" and event.get("phase") != "stateful"
                _tally(event.get("recorder", {}), result, base_url, own_label=own_label, auth=auth)
                if event.get("status") == "error":
                    result.errors.append(f"error in {event.get('recorder', {}).get('label')}; see the output above")
            elif kind in ("NonFatalError", "FatalError"):
                result.errors.append(f"{kind}: {json.dumps(event.get('value') or event.get('exception'))[:500]}")


def judge_reach(result: FuzzResult, spec: Spec, config: Config) -> None:
    """Fail the operations the run proved nothing about, each with what to do about it.

    Every answer 401 or 403: no request got past authentication (Schemathesis only warns, and exits 0). Any 501: the
    operation, or a security handler it goes through, is not implemented, and 501 is no answer the contract gives.
    """
    settings = _shown(config.path)
    for operation in spec.operations.values():
        counts = result.statuses.get(operation.label)
        if not counts:
            continue
        named = f"{operation.label} ({operation.id})"
        total = sum(counts.values())
        if set(counts) <= {401, 403}:
            result.unreached[operation.label] = (
                f"{named}: every answer was 401 or 403 ({total} requests), so no request reached the operation: "
                f"configure [auth] in {settings} (the spec's operations that obtain a token) so the harness "
                "sends credentials the security handlers accept"
            )
        if counts.get(501):
            result.unimplemented[operation.label] = (
                f"{named}: answered 501 Not Implemented to {counts[501]} of {total} requests: implement the "
                f"handler of {operation.id} (and any security handler it goes through that still answers 501)"
            )
    result.errors.extend([*result.unreached.values(), *result.unimplemented.values()])


def _shown(path: Path) -> str:
    """The configuration file as the reader would type it: relative to the working directory where it is below it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _tally(
    recorder: dict[str, Any], result: FuzzResult, base_url: str, *, own_label: bool, auth: AuthSettings | None
) -> None:
    cases = recorder.get("cases", {})
    interactions = recorder.get("interactions", {})
    for case_id, interaction in interactions.items():
        # By the request's own method and path: a scenario's probes with undocumented methods are not its operation.
        case = cases.get(case_id, {}).get("value", {})
        response = interaction.get("response") or {}
        if "status_code" in response and "method" in case:
            result.statuses.setdefault(f"{case['method']} {case['path']}", Counter())[int(response["status_code"])] += 1
    for case_id, checks in recorder.get("checks", {}).items():
        case = cases.get(case_id, {}).get("value", {})
        label = recorder["label"] if own_label else f"{case.get('method', '?')} {case.get('path', '?')}"
        tally = result.operations.setdefault(label, OperationTally())
        tally.cases += 1
        for check in checks:
            if check.get("status") != "failure":
                continue
            tally.failures[check["name"]] += 1
            failure = check["failure_info"]["failure"]
            # A check may fail on a request it derived itself (e.g. ignored_auth); reproduce that one.
            interaction = interactions.get(failure.get("case_id") or case_id)
            result.failures.append(
                Failure(
                    implementation=result.implementation,
                    operation=label,
                    check=check["name"],
                    title=failure.get("title", ""),
                    message=failure.get("message") or failure.get("title", ""),
                    curl=_curl(interaction, base_url, auth) if interaction else "(no request recorded)",
                )
            )


def _unfiltered(name: str, value: str, auth: AuthSettings | None) -> str:
    # Reports keep credentials out; the reader substitutes the token of their own run, in the configured form.
    if value != "[Filtered]":
        return value
    if auth is not None and name.lower() == auth.header.lower():
        return auth.header_value.format(token="$TOKEN")
    return "Bearer $TOKEN" if name.lower() == "authorization" else "$SECRET"


def _curl(interaction: dict[str, Any], base_url: str, auth: AuthSettings | None = None) -> str:
    request = interaction["request"]
    headers = [
        (name, _unfiltered(name, value, auth))
        for name, values in request.get("headers", {}).items()
        if name.lower() not in NOISE_HEADERS
        for value in values
    ]
    body = request.get("body")
    raw = base64.b64decode(body["$base64"]) if isinstance(body, dict) and "$base64" in body else None
    uri: str = request["uri"]
    return WireRequest(method=request["method"], path=uri.removeprefix(base_url), headers=headers, body=raw).curl(
        base_url
    )
