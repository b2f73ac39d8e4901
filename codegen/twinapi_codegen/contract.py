"""The contract document: the one reading of the spec that both runtimes load, written as `contract.json` into each
implementation's generated folder.

It holds the spec twice, both as JSON data read the YAML 1.2 way (see yaml12):
- `spec`: as written, which each server answers at /openapi.json and shows at /docs;
- `served`: what the servers route, authenticate and validate by: the document the generated code was made from
  (each enum value once, no declared dialect, no default its own schema refuses), with OpenAPI 3.0's `nullable` and
  boolean bounds in JSON Schema 2020-12 terms and tagged `oneOf`s checked by their tag (see dialect). It is an
  OpenAPI 3.1 document whatever the spec's version, since that is the dialect its schemas are now written in;
  Its request bodies and responses refer to their directed shapes (see visibility): a readOnly property is not
  required in a request, and a writeOnly one is no part of a response;
- `validation`, only where the spec has tagged `oneOf`s: the served form with each checked by its tag (see
  dialect.discriminated), which the request validators read. Response serialisers (fast-json-stringify) cannot
  merge that rewrite, so they read `served`;
- `visibility`, only where a body can carry a readOnly or writeOnly property: what the runtimes remove from request
  bodies once validated (readOnly properties) and from responses before they are serialised (writeOnly ones), by
  operation, status and media type (see visibility.plans).
The runtimes parse no YAML and upgrade nothing: what they serve is exactly what this module wrote.

JSON has no comments, so the DO NOT EDIT header is the first key, `x-generated`, on the first line (where
writer.py looks for it). `twinapi-contract` is the document's format; a runtime refuses one it does not know.
"""

from __future__ import annotations

import json
from typing import Any

from twinapi_codegen import dialect, visibility
from twinapi_codegen.loader import Document

FILE_NAME = "contract.json"
FORMAT = 1


def document(doc: Document, header: str) -> dict[str, Any]:
    """The contract of a loaded spec; `header` is the generated files' DO NOT EDIT line."""
    upgraded: dict[str, Any] = dialect.upgrade(doc.for_generation().data)
    if str(upgraded.get("openapi", "")).startswith("3.0"):
        upgraded["openapi"] = "3.1.0"
    served = visibility.served(upgraded)
    document = {"x-generated": header, "twinapi-contract": FORMAT, "spec": doc.data, "served": served}
    validation = dialect.discriminated(served)
    if validation != served:
        document["validation"] = validation
    removed = visibility.plans(upgraded)
    if removed is not None:
        document["visibility"] = removed
    return document


def render(contract: dict[str, Any]) -> str:
    """The document as committed: indented for readable diffs, the header alone on the first line."""
    text = json.dumps(contract, indent=1, ensure_ascii=False, allow_nan=False)
    # `{\n "x-generated": ...` becomes `{"x-generated": ...`: the marker on the first line, still valid JSON.
    return "{" + text[1:].lstrip("\n ") + "\n"
