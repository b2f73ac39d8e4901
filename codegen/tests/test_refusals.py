"""Constructs that cannot be served are refused at generation, located in the spec, never at a server's start."""

from __future__ import annotations

from pathlib import Path

import pytest

from twinapi_codegen import loader, parser
from twinapi_codegen.errors import SpecError

MUTUAL_TLS = """openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /things:
    get:
      operationId: listThings
      security: [{certificate: []}]
      responses:
        "200": {description: ok}
components:
  securitySchemes:
    certificate:
      type: mutualTLS
"""


def test_mutual_tls_is_refused_with_its_location(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(MUTUAL_TLS, encoding="utf-8")
    with pytest.raises(SpecError) as refused:
        parser.build(loader.load(spec))
    [problem] = refused.value.problems
    assert problem.pointer == "/components/securitySchemes/certificate" and problem.line == 13
    assert "mutualTLS cannot be served" in problem.message
