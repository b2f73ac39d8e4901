"""One schema-valid request per operation of a spec, sent to running servers: each must answer 501 problem+json.

Run by the corpus as `python -m twinapi_corpus.probe SPEC NAME=URL...`; prints one JSON line per operation
and server as it goes, so a probe stopped at its time limit still tells how far it got.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

TIMEOUT = 10.0
EXAMPLES = 3
LIMIT = 60_000
SENT = ("method", "url", "headers", "params", "json", "data", "files", "cookies")


def _emit(**record: Any) -> None:
    print(json.dumps(record), flush=True)


def _in_authorization(scheme: Any) -> bool:
    return isinstance(scheme, dict) and scheme.get("type") in ("http", "oauth2", "openIdConnect")


def _credentials(spec: dict[str, Any], method: str, path: str) -> dict[str, dict[str, str]] | None:
    """Some value for every scheme of the operation's first security requirement, so requests reach the
    (scaffolded) security handler; one Authorization header cannot carry two schemes at once, so a requirement
    that needs two of them cannot be met by any request (None when no requirement can)."""
    out: dict[str, dict[str, str]] = {"headers": {}, "params": {}, "cookies": {}}
    schemes = (spec.get("components") or {}).get("securitySchemes") or {}
    item = (spec.get("paths") or {}).get(path) or {}
    operation = item.get(method.lower()) if isinstance(item, dict) else None
    security = operation.get("security") if isinstance(operation, dict) else None
    if security is None:
        security = spec.get("security") or []
    requirements = [r for r in security if isinstance(r, dict)] or [{}]
    usable = [r for r in requirements if sum(_in_authorization(schemes.get(n)) for n in r) <= 1]
    if not usable:
        return None
    for name in usable[0]:
        scheme = schemes.get(name) if isinstance(schemes, dict) else None
        if not isinstance(scheme, dict):
            continue
        kind = scheme.get("type")
        if kind == "apiKey" and isinstance(scheme.get("name"), str):
            where = {"header": "headers", "query": "params", "cookie": "cookies"}.get(scheme.get("in", ""))
            if where:
                out[where][scheme["name"]] = "any"
        elif kind == "http" and str(scheme.get("scheme", "")).lower() == "basic":
            out["headers"]["Authorization"] = "Basic YW55OmFueQ=="
        else:
            out["headers"]["Authorization"] = "Bearer any"
    return out


def _size(kwargs: dict[str, Any]) -> int:
    body = kwargs.get("json", kwargs.get("data"))
    if body is None:
        return 0
    if isinstance(body, (bytes, str)):
        return len(body)
    try:
        return len(json.dumps(body, default=str))
    except (TypeError, ValueError):
        return 0


def _poison(case: Any) -> bool:
    """Whether a case's body holds a prototype-poisoning key, which both kits refuse by design (README)."""
    text = json.dumps(case.body, default=str) if isinstance(case.body, (dict, list)) else ""
    return '"__proto__"' in text or ('"constructor"' in text and '"prototype"' in text)


def _nested(value: Any, inside: bool = False) -> bool:
    """Objects or arrays below a parameter's own object or array (whose fields and items are scalars)."""
    if isinstance(value, dict):
        return inside or any(_nested(v, True) for v in value.values())
    if isinstance(value, list):
        return any(isinstance(v, (dict, list)) for v in value)
    return False


def _schema(definition: dict[str, Any]) -> tuple[Any, Callable[[Any], Any]]:
    """A parameter's schema and a resolver of the references Schemathesis bundled into it."""
    schema = definition.get("schema")
    bundle = schema.get("x-bundled", {}) if isinstance(schema, dict) else {}

    def resolve(node: Any) -> Any:
        for _ in range(32):
            ref = node.get("$ref") if isinstance(node, dict) else None
            if not isinstance(ref, str) or not ref.startswith("#/x-bundled/"):
                break
            node = bundle.get(ref.rsplit("/", 1)[1], {})
        return node

    return resolve(schema), resolve


def _pattern(definition: dict[str, Any]) -> re.Pattern[str] | None:
    """A string parameter's pattern, where Python reads it as ECMA-262 does (else no check is made)."""
    schema, _ = _schema(definition)
    pattern = schema.get("pattern") if isinstance(schema, dict) else None
    try:
        return re.compile(pattern) if isinstance(pattern, str) else None
    except re.error:
        return None


def _structured(definition: dict[str, Any]) -> bool:
    """Whether a parameter's schema nests objects or arrays inside its object or array."""
    schema, resolve = _schema(definition)

    def compound(node: Any) -> bool:
        node = resolve(node)
        return isinstance(node, dict) and (node.get("type") in ("object", "array") or "properties" in node)

    if not isinstance(schema, dict):
        return False
    if schema.get("type") == "array":
        return compound(schema.get("items"))
    return any(compound(field) for field in (schema.get("properties") or {}).values())


def _unserialisable(case: Any, structured: set[str]) -> bool:
    """Whether a parameter holds objects inside objects or arrays, which OpenAPI's styles have no serialisation
    for: what Schemathesis sends then is not the value it generated, so the answer says nothing of the server."""
    found = (case.query, case.headers, case.cookies, case.path_parameters)
    parts = [part for part in found if isinstance(part, Mapping)]  # headers: a CaseInsensitiveDict
    for part in parts:
        for key, value in part.items():
            # A structured query parameter may arrive flattened: `name[field][inner]` keys.
            if key.split("[", 1)[0] in structured and value not in ("", None):
                return True
    return any(_nested(value) for part in parts for value in part.values())


def _unmatched(case: Any, patterns: dict[str, re.Pattern[str]]) -> bool:
    """Whether a string parameter misses its pattern: Schemathesis ignores a pattern it cannot generate from."""
    parts = [p for p in (case.query, case.headers, case.cookies, case.path_parameters) if isinstance(p, Mapping)]
    return any(
        isinstance(value, str) and name in patterns and patterns[name].search(value) is None
        for part in parts
        for name, value in part.items()
    )


def _collect(operation: Any, found: list[Any]) -> None:
    """A few schema-valid cases of one operation, made by Schemathesis (derandomized: the same every run)."""
    from hypothesis import HealthCheck, assume, given, settings

    groups = (operation.query, operation.headers, operation.cookies, operation.path_parameters)
    structured = {param.name for group in groups for param in group if _structured(param.definition)}
    patterns = {param.name: p for group in groups for param in group if (p := _pattern(param.definition))}

    @given(case=operation.as_strategy())
    @settings(max_examples=EXAMPLES, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def collect(case: Any) -> None:
        assume(not _poison(case) and not _unserialisable(case, structured) and not _unmatched(case, patterns))
        found.append(case)

    collect()


def main(argv: list[str]) -> int:
    warnings.simplefilter("ignore")
    import requests
    import schemathesis
    from twinapi_codegen import yaml12

    spec_path, servers = argv[0], dict(arg.split("=", 1) for arg in argv[1:])
    # The spec as the generator and both servers read it (YAML 1.2): Schemathesis's own loader reads 010 and 1:20
    # the YAML 1.1 way, and would ask the servers for values they rightly refuse.
    with open(spec_path, encoding="utf-8") as fh:
        document, _ = yaml12.read(fh.read())
    schema = schemathesis.openapi.from_dict(document)
    session = requests.Session()
    for result in schema.get_all_operations():
        try:
            operation = result.ok()  # type: ignore[union-attr]
        except Exception as exc:  # an operation Schemathesis cannot read: not a server's fault
            _emit(kind="unprobed", operation="?", reason=f"schemathesis: {str(exc).splitlines()[0][:200]}")
            continue
        label = operation.label
        found: list[Any] = []
        try:
            _collect(operation, found)
        except Exception as exc:
            if not found:
                _emit(kind="unprobed", operation=label, reason=f"no valid request: {str(exc).splitlines()[0][:200]}")
                continue
        if not found:
            _emit(kind="unprobed", operation=label, reason="Schemathesis made no valid request")
            continue
        credentials = _credentials(document, operation.method, operation.path)
        if credentials is None:
            _emit(kind="unprobed", operation=label, reason="every security requirement needs two Authorization headers")
            continue
        # Bodies over the kits' 64 KiB limit are answered 413 by design: not a request the probe should send.
        found = [case for case in found if _size(case.as_transport_kwargs(base_url="http://x")) <= LIMIT] or found
        for name, url in servers.items():
            outcome: dict[str, Any] = {}
            for case in found:
                kwargs = case.as_transport_kwargs(base_url=url)
                kwargs["url"] = kwargs["url"].replace("#", "%23")
                for key, values in credentials.items():
                    if values:
                        kwargs[key] = {**(kwargs.get(key) or {}), **values}
                try:
                    response = session.request(**{k: v for k, v in kwargs.items() if k in SENT}, timeout=TIMEOUT)
                except requests.Timeout:
                    outcome = {"ok": False, "status": None, "reason": f"no answer within {TIMEOUT:.0f} s"}
                    break
                except (requests.RequestException, ValueError, TypeError) as exc:
                    outcome = {"ok": None, "status": None, "reason": f"unsendable: {type(exc).__name__}: {exc}"[:200]}
                    continue
                head = kwargs["method"].upper() == "HEAD"
                problem = response.headers.get("content-type", "").startswith("application/problem+json")
                if response.status_code == 501 and (head or problem):
                    outcome = {"ok": True, "status": 501, "reason": ""}
                    continue
                text = " ".join(response.text.split())[:240]
                reason = "501 without problem+json" if response.status_code == 501 else text
                outcome = {"ok": False, "status": response.status_code, "reason": reason}
                break
            _emit(kind="result", operation=label, server=name, **outcome)
    _emit(kind="done")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
