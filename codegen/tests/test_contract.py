"""The contract document: the spec as written and as served, written into both generated folders, kept in step by
`check`, and the only thing either runtime reads of the spec."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DATA, ROOT, Project
from test_cli import _run

from twinapi_codegen import contract, loader, writer
from twinapi_codegen.generate import render


def _document(outputs: dict[Path, str], folder: Path | None) -> dict[str, object]:
    assert folder is not None
    parsed: dict[str, object] = json.loads(outputs[folder / contract.FILE_NAME])
    return parsed


def test_both_implementations_get_the_same_document_marked_generated(project: Project) -> None:
    targets = project("openapi30")
    outputs = render(targets)
    assert targets.python_dir is not None and targets.typescript_dir is not None
    text = outputs[targets.python_dir / contract.FILE_NAME]
    assert text == outputs[targets.typescript_dir / contract.FILE_NAME]
    assert writer.MARKER in text.splitlines()[0] and "make generate" in text.splitlines()[0]
    assert json.loads(text)["twinapi-contract"] == contract.FORMAT


def test_it_holds_the_spec_as_written_and_the_upgraded_one_it_is_served_by(project: Project) -> None:
    targets = project("openapi30")
    document = _document(render(targets), targets.python_dir)
    assert document["spec"] == loader.load(DATA / "openapi30.yaml").data
    served = document["served"]
    assert isinstance(served, dict) and served["openapi"] == "3.1.0"
    assert "nullable" not in json.dumps(served) and '"nullable": true' in json.dumps(document["spec"])


def test_tagged_one_ofs_are_served_checked_by_their_tag(project: Project) -> None:
    targets = project("discriminator_mapping")
    document = _document(render(targets), targets.python_dir)
    spec, served, checked = (json.dumps(document[key]) for key in ("spec", "served", "validation"))
    assert '"if"' not in spec and '"if"' not in served and '"if"' in checked
    assert "validation" not in _document(render(project("openapi30")), targets.python_dir)


def test_check_notices_a_hand_edited_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(DATA / "tasks.yaml", tmp_path / "openapi.yaml")
    assert _run(tmp_path, "generate") == 0
    path = tmp_path / "ts" / contract.FILE_NAME
    edited = json.loads(path.read_text(encoding="utf-8"))
    edited["served"]["info"]["title"] = "edited"
    path.write_text(contract.render(edited), encoding="utf-8")
    assert _run(tmp_path, "check") == 1
    assert f"out of date: {path}" in capsys.readouterr().err


def test_the_python_runtime_parses_no_yaml() -> None:
    probe = "import sys, twinapi_runtime, app.main; sys.exit('yaml' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT / "python-impl", capture_output=True, text=True)
    assert done.returncode == 0, done.stderr or "twinapi_runtime imported yaml"


def test_the_node_kit_depends_on_no_yaml_parser() -> None:
    package = json.loads((ROOT / "node-impl" / "kit" / "package.json").read_text(encoding="utf-8"))
    assert not {"yaml", "js-yaml"} & set(package["dependencies"])
    sources = (ROOT / "node-impl" / "kit" / "src").glob("*.ts")
    assert not [p.name for p in sources if 'from "yaml"' in p.read_text(encoding="utf-8")]
