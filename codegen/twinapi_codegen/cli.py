"""`twinapi-codegen generate|check`: the command `make generate` and `make check-generated` run."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from twinapi_codegen import errors, generate, project, writer
from twinapi_codegen.errors import SpecError, ToolError


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    cli = argparse.ArgumentParser(prog="twinapi-codegen", description=__doc__)
    cli.add_argument(
        "command",
        choices=["generate", "check", "new-project"],
        help="write the outputs, only compare them, or write a whole new project for the spec into --dest",
    )
    cli.add_argument("--dest", type=Path, help="new-project: the new or empty folder to write the project into")
    cli.add_argument("--spec", type=Path, default=Path("openapi.yaml"), help="the OpenAPI 3.0/3.1 document")
    cli.add_argument("--root", type=Path, default=Path("."), help="project root; headers name the spec from it")
    cli.add_argument("--python-out", type=Path, default=Path("python-impl/app/generated"))
    cli.add_argument("--typescript-out", type=Path, default=Path("node-impl/src/generated"))
    cli.add_argument("--openapi-typescript", type=Path, default=Path("node-impl/node_modules/.bin/openapi-typescript"))
    cli.add_argument("--only", choices=["python", "typescript"], help="generate one side only")
    return cli.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    # Warnings do not stop generation; each is printed once as it is found, named as the user named the spec
    # (new-project reads a copy of it).
    with errors.collecting(lambda warning: print(warning.render(str(args.spec)), file=sys.stderr)):
        try:
            return _new_project(args) if args.command == "new-project" else _generate(args)
        except Exception as exc:  # the generator's own failure, not the spec's: one line, and how to see more
            if os.environ.get("TWINAPI_TRACEBACK"):
                raise
            print(
                f"error: twinapi-codegen failed unexpectedly on {args.spec}: {type(exc).__name__}: {exc}\n"
                "Set TWINAPI_TRACEBACK=1 to see where, and please report it with the spec.",
                file=sys.stderr,
            )
            return 1


def _generate(args: argparse.Namespace) -> int:
    targets = generate.Targets(
        root=args.root,
        spec=args.spec,
        python_dir=None if args.only == "typescript" else args.python_out,
        typescript_dir=None if args.only == "python" else args.typescript_out,
        openapi_typescript=args.openapi_typescript,
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
            print(f"error: generated files differ from {args.spec}; run `make generate`.", file=sys.stderr)
            return 1
        return 0
    for path in writer.write(outputs):
        print(f"wrote {path}")
    for path in writer.write(scaffolds):
        print(f"scaffolded {path}: it is yours to edit, and never overwritten")
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
    if args.dest is None:
        print("error: new-project needs --dest (DEST=path/to/dir)", file=sys.stderr)
        return 2
    try:
        dest = project.create(args.spec, args.dest)
    except project.ProjectError as exc:
        print(f"error: {exc}; nothing was written.", file=sys.stderr)
        return 1
    except (SpecError, ToolError) as exc:
        return _refused(exc)
    print(f"wrote {dest}: cd there, then `make setup`, `make run-python`, `make run-node` (`make help` lists more)")
    return 0
