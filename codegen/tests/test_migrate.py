"""`twinapi migrate`: a project written for kit 0.1 is brought to 0.2's settings; its own code is only pointed at."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import DATA, OPENAPI_TYPESCRIPT

from twinapi_codegen import upgrade
from twinapi_codegen.cli import main

CONFORMANCE_0_1 = """# Conformance harness configuration.
spec = "../openapi.yaml"   # the contract
schemathesis_config = "schemathesis.toml"

[budget]
seed = 1
"""
MAIN_0_1 = """from fastapi import FastAPI
from twinapi_runtime import include_contract

from app.generated.routes import CONTRACT_PATH, bind
from app.handlers import Security, Service


def create_app() -> FastAPI:
    app = FastAPI()
    include_contract(
        app,
        CONTRACT_PATH,
        bind(Service(), Security()),
    )
    return app
"""
SERVER_0_1 = """import Fastify from "fastify";
import { twinapi } from "fastify-twinapi";

const app = Fastify();
await app.register(twinapi, {
  contractPath: CONTRACT_PATH,
  service: new Service(),
  securityHandlers: new Security(),
});
"""


def _project(root: Path, conformance: str = CONFORMANCE_0_1, main_py: str = MAIN_0_1, server: str = SERVER_0_1) -> None:
    for relative, text in {
        "contract-tests/conformance.toml": conformance,
        "python-impl/app/main.py": main_py,
        "node-impl/src/app/server.ts": server,
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")


def test_a_0_1_project_gets_its_contract_line_and_one_line_per_code_change(tmp_path: Path) -> None:
    _project(tmp_path)
    changes = upgrade.migrate(tmp_path)
    rendered = [change.render() for change in changes]
    assert rendered == [
        'migrated contract-tests/conformance.toml:2: `spec = "../openapi.yaml"   # the contract` is now '
        '`contract = "../python-impl/app/generated/contract.json"` (the harness fuzzes the generated contract '
        "document)",
        "to do python-impl/app/main.py:13: bind() takes the error hooks as a third argument: "
        "bind(Service(), Security(), Errors()), with `from app.errors import Errors` "
        f"(see {upgrade.CHANGELOG_0_2})",
        "to do node-impl/src/app/server.ts:5: the kit's plugin options gain `errorBodies: new Errors()`, with "
        f'`import {{ Errors }} from "./errors.js"` (see {upgrade.CHANGELOG_0_2})',
    ]
    conformance = (tmp_path / "contract-tests/conformance.toml").read_text(encoding="utf-8")
    assert conformance == CONFORMANCE_0_1.replace(
        'spec = "../openapi.yaml"   # the contract', 'contract = "../python-impl/app/generated/contract.json"'
    )
    # Hand-written code is never rewritten.
    assert (tmp_path / "python-impl/app/main.py").read_text(encoding="utf-8") == MAIN_0_1
    assert (tmp_path / "node-impl/src/app/server.ts").read_text(encoding="utf-8") == SERVER_0_1


def test_a_migrated_project_has_nothing_left_to_change(tmp_path: Path) -> None:
    _project(
        tmp_path,
        main_py=MAIN_0_1.replace("bind(Service(), Security())", "bind(Service(), Security(), Errors())"),
        server=SERVER_0_1.replace("  securityHandlers", "  errorBodies: new Errors(),\n  securityHandlers"),
    )
    first = upgrade.migrate(tmp_path)
    assert [change.rewritten for change in first] == [True]
    assert upgrade.migrate(tmp_path) == []


@pytest.mark.parametrize(
    "conformance",
    [
        # A `spec` key inside a table is someone else's setting, not 0.1's top-level one.
        'contract = "../python-impl/app/generated/contract.json"\n[extra]\nspec = "../openapi.yaml"\n',
        # Both keys: the harness reads `contract`; leaving `spec` is harmless and the user's choice.
        'spec = "../openapi.yaml"\ncontract = "elsewhere/contract.json"\n',
    ],
)
def test_only_the_top_level_0_1_line_is_rewritten(tmp_path: Path, conformance: str) -> None:
    _project(tmp_path, conformance=conformance)
    assert [change for change in upgrade.migrate(tmp_path) if change.rewritten] == []
    assert (tmp_path / "contract-tests/conformance.toml").read_text(encoding="utf-8") == conformance


def test_the_command_prints_each_change_and_says_when_there_is_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(" ", 2)[:2] for line in out] == [
        ["migrated", "contract-tests/conformance.toml:2:"],
        ["to", "do"],
        ["to", "do"],
    ]
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.count("to do ") == 2  # what only the user can change is said again
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.chdir(empty)
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out == "migrate: nothing to change\n"


def test_generate_names_what_a_project_upgraded_without_migrate_still_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A 0.1 project's Makefile upgrades without `twinapi migrate`, but regenerates with the new kit.
    _project(tmp_path)
    shutil.copyfile(DATA / "minimal.yaml", tmp_path / "openapi.yaml")
    assert _generate(tmp_path) == 0
    out = capsys.readouterr().out
    assert "this project still has 3 change(s) to make for this kit: run `twinapi migrate`\n" in out
    assert '  to do contract-tests/conformance.toml:2: `spec = "../openapi.yaml"   # the contract` becomes ' in out
    assert (tmp_path / "contract-tests/conformance.toml").read_text(encoding="utf-8") == CONFORMANCE_0_1
    upgrade.migrate(tmp_path)
    (tmp_path / "python-impl/app/main.py").write_text("bind(Service(), Security(), Errors())\n", encoding="utf-8")
    (tmp_path / "node-impl/src/app/server.ts").write_text("register(twinapi, { errorBodies });\n", encoding="utf-8")
    assert _generate(tmp_path) == 0
    assert "change(s) to make" not in capsys.readouterr().out


def _generate(root: Path) -> int:
    return main(
        [
            "generate",
            "--root",
            str(root),
            "--spec",
            str(root / "openapi.yaml"),
            "--python-out",
            str(root / "python-impl/app/generated"),
            "--typescript-out",
            str(root / "node-impl/src/generated"),
            "--openapi-typescript",
            str(OPENAPI_TYPESCRIPT),
        ]
    )
