"""The contract document: the one reading of the spec that both runtimes load, written as `contract.json` into each
implementation's generated folder.

It holds the spec twice, both as JSON data read the YAML 1.2 way (see yaml12):
- `spec`: as written, with the project's overlays applied (twinapi.toml), which each server answers at
  /openapi.json and shows at /docs. Overlays correct a spec that stays as its authors wrote it; the corrected
  document is the contract the servers enforce, so it is also the one they publish: a client or a fuzzer made from
  /openapi.json expects what the servers do (a nullable `image`, an optional token), never the uncorrected file;
- `served`: what the servers route, authenticate and validate by: the document the generated code was made from
  (each enum value once, no declared dialect, no default its own schema refuses), with OpenAPI 3.0's `nullable` and
  boolean bounds in JSON Schema 2020-12 terms and tagged `oneOf`s checked by their tag (see dialect). It is an
  OpenAPI 3.1 document whatever the spec's version, since that is the dialect its schemas are now written in;
  Its request bodies and responses refer to their directed shapes (see visibility): a readOnly property is not
  required in a request, and a writeOnly one is no part of a response;
- `errors`: how the kit answers what it refuses after routing and before a handler, per operation and status (and
  per path for 405), as the spec documents it (see kit_errors, where the rule is written);
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

from twinapi_codegen import dialect, kit_errors, parser, visibility
from twinapi_codegen.loader import Document

FILE_NAME = "contract.json"
FORMAT = 1


def document(doc: Document, header: str, errors: kit_errors.ErrorTable | None = None) -> dict[str, Any]:
    """The contract of a loaded spec; `header` is the generated files' DO NOT EDIT line, `errors` the table of the
    kit's error answers when the caller has it already."""
    upgraded: dict[str, Any] = dialect.upgrade(doc.for_generation().data)
    if str(upgraded.get("openapi", "")).startswith("3.0"):
        upgraded["openapi"] = "3.1.0"
    served = visibility.served(upgraded)
    if errors is None:
        errors = kit_errors.table(parser.build(doc.for_generation()))
    document = {
        "x-generated": header,
        "twinapi-contract": FORMAT,
        "spec": doc.data,
        "served": served,
        "errors": errors.document(),
    }
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
