"""`twinapi`: the one command of the kit. `make generate`, `make check-generated`, `make new-project`, the contract
targets and `make corpus` all run it."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

from twinapi_codegen import __version__, errors, generate, project, settings, upgrade, writer
from twinapi_codegen.errors import SpecError, ToolError

PROG = "twinapi"
# Subcommands another package implements: name -> (module, distribution, what it does). Imported only when run, so
# the generator works without them.
DELEGATED = {
    "fuzz": ("twinapi_conformance.cli", "twinapi-conformance", "Schemathesis against each implementation"),
    "diff": ("twinapi_conformance.cli", "twinapi-conformance", "the same requests to both implementations, compared"),
    "interop": ("twinapi_conformance.cli", "twinapi-conformance", "both implementations on one database"),
    "ci": ("twinapi_conformance.cli", "twinapi-conformance", "fuzz, diff and interop with the CI budget"),
    "selftest": ("twinapi_conformance.cli", "twinapi-conformance", "the conformance harness's own tests"),
    "corpus": ("twinapi_corpus.corpus", "twinapi-corpus", "new-project, type-check and probe public specs"),
}


def _parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__,
        epilog="`twinapi COMMAND --help` explains each command's flags.",
    )
    cli.add_argument("--version", action="version", version=f"%(prog)s (twinapi-codegen) {__version__}")
    commands = cli.add_subparsers(dest="command", required=True, metavar="COMMAND")

    layout = argparse.ArgumentParser(add_help=False)
    layout.add_argument(
        "--spec", type=Path, default=Path("openapi.yaml"), help="the OpenAPI 3.0/3.1 document (default: openapi.yaml)"
    )
    layout.add_argument(
        "--root",
        type=Path,
        default=Path("."),
        help="the project root: headers name the spec from it, and its twinapi.toml lists the overlays applied to "
        "the spec (default: .)",
    )
    layout.add_argument(
        "--python-out",
        type=Path,
        default=Path("python-impl/app/generated"),
        help="the generated Python package (default: python-impl/app/generated)",
    )
    layout.add_argument(
        "--typescript-out",
        type=Path,
        default=Path("node-impl/src/generated"),
        help="the generated TypeScript folder (default: node-impl/src/generated)",
    )
    layout.add_argument(
        "--openapi-typescript",
        type=Path,
        default=Path("node-impl/node_modules/.bin/openapi-typescript"),
        help="the openapi-typescript executable (default: the project's node-impl/node_modules/.bin/)",
    )
    layout.add_argument("--only", choices=["python", "typescript"], help="generate or check one side only")
    commands.add_parser(
        "generate",
        parents=[layout],
        help="write the generated layers of both implementations (and missing handler scaffolds)",
        description="Validate the spec, render every generated file in memory, then write them all or none. "
        "Hand-written files that do not exist yet get a starting point; existing ones are never touched.",
    )
    commands.add_parser(
        "check",
        parents=[layout],
        help="fail when the generated files differ from what the spec produces",
        description="Render everything as `generate` would and compare it with the files on disk; nothing is "
        "written. Names the generator versions when the files were made by another one.",
    )

    new = commands.add_parser(
        "new",
        help="write a new project for a spec, depending on the kit's built packages",
        description="Write a project (spec, Makefile, settings, generated code, handler scaffolds, pinned and locked "
        "dependencies on the kit's packages) into a new or empty folder. Runs from a checkout of the kit.",
    )
    new.add_argument("--spec", type=Path, required=True, help="the OpenAPI 3.0/3.1 document the project serves")
    new.add_argument("--dest", type=Path, required=True, help="the new or empty folder to write the project into")
    new.add_argument(
        "--overlay",
        dest="overlays",
        type=Path,
        action="append",
        default=[],
        help="an OpenAPI Overlay (1.0) to apply to the spec; repeat for more, applied in order. Each is copied into "
        "the project's overlays/ and listed in its twinapi.toml",
    )
    new.add_argument(
        "--dist",
        type=Path,
        default=project.KIT_ROOT / "dist",
        help="the folder of the kit's built packages (`make dist`) the project installs from "
        "(default: the kit checkout's dist/)",
    )
    new.add_argument(
        "--openapi-typescript",
        type=Path,
        default=project.KIT_ROOT / "node-impl/node_modules/.bin/openapi-typescript",
        help="the openapi-typescript executable (default: the kit checkout's)",
    )
    new.add_argument(
        "--no-lock",
        dest="lock",
        action="store_false",
        help="write no lock files: for a throwaway project run in an environment installed already (make corpus)",
    )

    up = commands.add_parser(
        "upgrade",
        help="in a project: pin the newest kit build of the dist folder (`make upgrade-kit` runs it)",
        description="Rewrite the kit pins of the project in the current folder (requirements.in, "
        "node-impl/package.json) to the newest version all four kit packages have in --dist. `make upgrade-kit` "
        "then re-locks, reinstalls, regenerates and runs check-generated.",
    )
    up.add_argument("--dist", type=Path, required=True, help="the folder of the kit's built packages")
    up.add_argument("--version", dest="to", help="pin this version instead of the newest one found")
    commands.add_parser(
        "migrate",
        help="in a project, after a kit upgrade: adapt its settings, list the changes its code needs",
        description="Run with the new kit installed (`make upgrade-kit` does): rewrites the settings lines an "
        "upgrade changed where that is safe (contract-tests/conformance.toml), and prints one line per change "
        "hand-written code needs (file:line, what to write, the CHANGELOG entry). Exits 0 either way; `make lint` "
        "fails until the code changes are made.",
    )

    for name, (_, distribution, what) in DELEGATED.items():
        commands.add_parser(name, add_help=False, help=f"{what} ({distribution}; `twinapi {name} --help`)")
    return cli


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in DELEGATED:
        return _delegate(argv[0], argv[1:])
    args = _parser().parse_args(argv)
    if args.command == "upgrade":
        return _upgrade(args)
    if args.command == "migrate":
        return _migrate()
    # Warnings do not stop generation; each is printed once as it is found, named as the user named the spec
    # (new reads a copy of it).
    with errors.collecting(lambda warning: print(warning.render(str(args.spec)), file=sys.stderr)):
        try:
            return _new_project(args) if args.command == "new" else _generate(args)
        except Exception as exc:  # the generator's own failure, not the spec's: one line, and how to see more
            if os.environ.get("TWINAPI_TRACEBACK"):
                raise
            print(
                f"error: twinapi-codegen {__version__} failed unexpectedly on {args.spec}: "
                f"{type(exc).__name__}: {exc}\n"
                "Set TWINAPI_TRACEBACK=1 to see where, and please report it with the spec.",
                file=sys.stderr,
            )
            return 1


def _delegate(command: str, rest: list[str]) -> int:
    module_name, distribution, _ = DELEGATED[command]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not module_name.startswith(exc.name):
            raise
        message = f"error: `twinapi {command}` needs the package {distribution}: pip install {distribution}"
        print(message, file=sys.stderr)
        return 2
    run: Callable[..., int] = module.main
    if module_name == "twinapi_conformance.cli":
        return run([command, *rest], prog=PROG)
    return run(rest, prog=f"{PROG} {command}")


def _generate(args: argparse.Namespace) -> int:
    try:
        overlays = settings.load(args.root).overlays
    except settings.SettingsError as exc:
        print(f"error: {exc}; nothing was written.", file=sys.stderr)
        return 1
    targets = generate.Targets(
        root=args.root,
        spec=args.spec,
        python_dir=None if args.only == "typescript" else args.python_out,
        typescript_dir=None if args.only == "python" else args.typescript_out,
        openapi_typescript=args.openapi_typescript,
        overlays=overlays,
    )
    try:
        outputs = generate.render(targets)
        scaffolds = generate.scaffold(targets) if args.command == "generate" else {}
    except (SpecError, ToolError) as exc:
        return _refused(exc)
    if args.command == "check":
        changed = writer.differences(outputs)
        if changed:
            for path in changed:
                print(f"out of date: {path}", file=sys.stderr)
            others = sorted(writer.generator_versions(changed) - {__version__})
            if others:
                print(
                    f"error: generated by twinapi-codegen {', '.join(others)}, this is {__version__}: "
                    "run `make generate`.",
                    file=sys.stderr,
                )
            else:
                print(f"error: generated files differ from {args.spec}; run `make generate`.", file=sys.stderr)
            return 1
        return 0
    for path in writer.write(outputs):
        print(f"wrote {path}")
    for path in writer.write(scaffolds):
        print(f"scaffolded {path}: it is yours to edit, and never overwritten")
    # A project upgraded by a Makefile older than `twinapi migrate` regenerates with the new kit all the same.
    pending = upgrade.migrate(args.root, write=False)
    if pending:
        print(f"this project still has {len(pending)} change(s) to make for this kit: run `twinapi migrate`")
        for change in pending:
            print("  " + change.render())
    return 0


def _refused(exc: SpecError | ToolError) -> int:
    if isinstance(exc, SpecError):
        print(f"error: {exc.file} cannot be generated from; nothing was written.", file=sys.stderr)
        for problem in exc.problems:
            print("  " + problem.render(exc.file), file=sys.stderr)
    else:
        print(f"error: {exc}\nnothing was written.", file=sys.stderr)
    return 1


def _new_project(args: argparse.Namespace) -> int:
    try:
        dest = project.create(
            args.spec,
            args.dest,
            dist=args.dist,
            openapi_typescript=args.openapi_typescript,
            lock=args.lock,
            overlays=args.overlays,
        )
    except project.ProjectError as exc:
        print(f"error: {exc}; nothing was written.", file=sys.stderr)
        return 1
    except (SpecError, ToolError) as exc:
        return _refused(exc)
    print(f"wrote {dest}: cd there, then `make setup`, `make run-python`, `make run-node` (`make help` lists more)")
    return 0


def _upgrade(args: argparse.Namespace) -> int:
    try:
        before, after = upgrade.bump(Path("."), args.dist, args.to)
    except upgrade.UpgradeError as exc:
        print(f"error: {exc}; nothing was changed.", file=sys.stderr)
        return 1
    if before == after:
        print(f"the kit is already at {after}")
    else:
        print(f"kit pins: {before} -> {after}")
    return 0


def _migrate() -> int:
    changes = upgrade.migrate(Path("."))
    for change in changes:
        print(change.render())
    if not changes:
        print("migrate: nothing to change")
    return 0
