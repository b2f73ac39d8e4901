"""The few facts about the OpenAPI document the harness needs beyond what Schemathesis reads itself."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str


class Spec:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.raw: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
        self.operations = {
            op["operationId"]: Operation(op["operationId"], method.upper(), route)
            for route, item in self.raw.get("paths", {}).items()
            for method, op in item.items()
            if method in METHODS and "operationId" in op
        }

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise KeyError(f"{self.path} has no operation {operation_id!r}") from None

    def labels(self) -> list[str]:
        """Operation labels as Schemathesis writes them (`METHOD /path`), in document order."""
        return [f"{op.method} {op.path}" for op in self.operations.values()]

    def documented_headers(self) -> set[str]:
        """Every response header the document names anywhere, lower-cased."""
        names: set[str] = set()
        for item in self.raw.get("paths", {}).values():
            for method, op in item.items():
                if method not in METHODS:
                    continue
                for response in op.get("responses", {}).values():
                    names.update(name.lower() for name in self._resolve(response).get("headers", {}))
        return names

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        # Local references only: the harness does not fetch anything.
        while "$ref" in node:
            target: Any = self.raw
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def requires_auth(self, operation_id: str | None) -> bool:
        """Whether the operation declares a security requirement that is not optional."""
        if operation_id is None:
            return False
        operation = self.operation(operation_id)
        definition = self.raw["paths"][operation.path][operation.method.lower()]
        requirements = definition.get("security", self.raw.get("security", []))
        return bool(requirements) and {} not in requirements
