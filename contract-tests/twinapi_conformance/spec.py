"""The spec as both servers read it, from the generated contract document, and the few facts about it the harness
needs beyond what Schemathesis reads itself.

The contract document (contract.json, written by `make generate` into each implementation's generated code) holds
the spec as JSON data read the YAML 1.2 way. Reading openapi.yaml here the YAML 1.1 way (PyYAML), or letting
Schemathesis read it (its loader keeps `on`, `off` and dates as strings, but reads `010` as 8 and `1:20` as 80),
would fuzz another contract than the one the servers serve: values both servers rightly refuse sent as valid, and
values they accept sent as invalid.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# The contract document's format, as the runtimes check it.
CONTRACT_FORMAT = 1


class SpecError(ValueError):
    """The contract document is missing, not JSON, or not a contract document of a known format."""


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str

    @property
    def label(self) -> str:
        """As Schemathesis writes it: `METHOD /path`."""
        return f"{self.method} {self.path}"


class Spec:
    def __init__(self, raw: dict[str, Any], source: Path) -> None:
        self.path = source
        self.raw = raw
        self.operations = {
            op["operationId"]: Operation(op["operationId"], method.upper(), route)
            for route, item in self.raw.get("paths", {}).items()
            for method, op in self._resolve(item).items()
            if method in METHODS and "operationId" in op
        }
        # Concrete paths before templated ones, as OpenAPI matches them; then the fewest template parameters first.
        self._matchers = sorted(
            ((re.compile(_template_regex(route)), route.count("{"), method.upper(), route)
             for route, item in self.raw.get("paths", {}).items()
             for method in self._resolve(item) if method in METHODS),
            key=lambda entry: entry[1],
        )  # fmt: skip

    @classmethod
    def load(cls, contract: Path) -> Spec:
        """The `spec` of a generated contract document."""
        try:
            document = json.loads(contract.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SpecError(f"{contract}: {exc.strerror or exc}; run `make generate` to write it") from None
        except ValueError as exc:
            raise SpecError(f"{contract}: not JSON ({exc}); run `make generate` to write it again") from None
        if not isinstance(document, dict) or document.get("twinapi-contract") != CONTRACT_FORMAT:
            raise SpecError(
                f"{contract} is not a contract document of format {CONTRACT_FORMAT}: run `make generate` with the "
                "kit version this harness belongs to"
            )
        spec = document.get("spec")
        if not isinstance(spec, dict):
            raise SpecError(f"{contract} has no `spec`: run `make generate`")
        return cls(spec, contract)

    def write_json(self, path: Path) -> Path:
        """The spec as a JSON file, for the Schemathesis command line (which reads a .json path as JSON)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.raw, ensure_ascii=False), encoding="utf-8")
        return path

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise KeyError(f"{self.path} has no operation {operation_id!r}") from None

    def labels(self) -> list[str]:
        """Operation labels as Schemathesis writes them (`METHOD /path`), in document order."""
        return [op.label for op in self.operations.values()]

    def label_of(self, method: str, path: str) -> str | None:
        """The label of the operation a request to `path` (without query) reaches, if the spec has one."""
        method, path = method.upper(), path.split("?", 1)[0]
        for pattern, _, candidate, route in self._matchers:
            if candidate == method and pattern.fullmatch(path):
                return f"{method} {route}"
        return None

    def documented_statuses(self) -> dict[str, list[str]]:
        """Per operation label, the response keys the operation documents ("200", "4XX", "default")."""
        return {
            op.label: [str(key) for key in self._definition(op).get("responses", {})] for op in self.operations.values()
        }

    def documented_headers(self) -> set[str]:
        """Every response header the document names anywhere, lower-cased."""
        names: set[str] = set()
        for item in self.raw.get("paths", {}).values():
            for method, op in self._resolve(item).items():
                if method not in METHODS:
                    continue
                for response in op.get("responses", {}).values():
                    names.update(name.lower() for name in self._resolve(response).get("headers", {}))
        return names

    def _definition(self, operation: Operation) -> dict[str, Any]:
        definition: dict[str, Any] = self._resolve(self.raw["paths"][operation.path])[operation.method.lower()]
        return definition

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        # Local references only: the harness does not fetch anything.
        while "$ref" in node:
            target: Any = self.raw
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def requires_auth(self, operation_id: str | None) -> bool:
        """Whether the operation declares a security requirement that is not optional."""
        if operation_id is None:
            return False
        definition = self._definition(self.operation(operation_id))
        requirements = definition.get("security", self.raw.get("security", []))
        return bool(requirements) and {} not in requirements


def _template_regex(route: str) -> str:
    """`/tasks/{taskId}` as a regex: each template expression one non-empty path segment (or part of one)."""
    return "".join(
        "[^/]+" if part.startswith("{") else re.escape(part) for part in re.split(r"(\{[^}/]*\})", route) if part
    )
