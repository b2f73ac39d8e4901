"""The conformance matrix (operation x implementation: cases run, failures per check, documented statuses never
observed) and the failure list."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from twinapi_conformance.coverage import Coverage
from twinapi_conformance.fuzz import FuzzResult

# How many failures of one (implementation, operation, check) are spelled out; the rest are counted.
SHOWN_PER_CHECK = 2


def render(
    console: Console, labels: list[str], results: list[FuzzResult], coverages: dict[str, Coverage] | None = None
) -> None:
    coverages = coverages or {}
    table = Table(
        title="Conformance matrix (cases run; failing cases per check; documented statuses never observed)",
        show_lines=True,
    )
    table.add_column("operation", style="bold")
    for result in results:
        table.add_column(f"{result.implementation} (seed {result.seed})")
    seen = dict.fromkeys(labels)
    for result in results:
        seen.update(dict.fromkeys(result.operations))
    for label in seen:
        row = [escape(label)]
        for result in results:
            row.append(_cell(result, coverages.get(result.implementation), label))
        table.add_row(*row)
    console.print(table)
    for result in results:
        _failures(console, result, coverages.get(result.implementation))


def _cell(result: FuzzResult, coverage: Coverage | None, label: str) -> str:
    tally = result.operations.get(label)
    lines = []
    if result.not_run is not None:
        lines.append("[red]not fuzzed: see below[/]")
    elif tally is None:
        lines.append("[yellow]not tested[/]")
    else:
        failed = [f"[red]{escape(check)}: {count}[/]" for check, count in sorted(tally.failures.items())]
        clean = not failed and label not in result.unreached and label not in result.unimplemented
        lines.append(f"{tally.cases} cases" + (" [green]ok[/]" if clean else ""))
        lines += failed
    if label in result.unreached:
        lines.append("[red]only 401/403: configure [auth][/]")
    if label in result.unimplemented:
        lines.append(f"[red]501 × {result.statuses[label][501]}: not implemented[/]")
    operation = coverage.operations.get(label) if coverage is not None else None
    if operation is not None:
        if operation.unobserved:
            colour = "red" if coverage is not None and coverage.required else "yellow"
            lines.append(f"[{colour}]never observed: {', '.join(operation.unobserved)}[/]")
        if operation.excused:
            lines.append(f"[dim]declared unobservable: {', '.join(operation.excused)}[/]")
    return "\n".join(lines)


def _failures(console: Console, result: FuzzResult, coverage: Coverage | None) -> None:
    shown: dict[tuple[str, str], int] = {}
    for failure in result.failures:
        key = (failure.operation, failure.check)
        shown[key] = shown.get(key, 0) + 1
        if shown[key] > SHOWN_PER_CHECK:
            continue
        where = escape(f"{result.implementation} {failure.operation}")
        console.print(f"[red]FAIL[/] {where} [bold]{escape(failure.check)}[/]: {escape(failure.title)}")
        console.print(f"  expected: {failure.message}", markup=False)
        console.print(f"  reproduce: {failure.curl}", markup=False, soft_wrap=True)
    for error in result.errors:
        console.print(f"[red]ERROR[/] {escape(result.implementation)}: {escape(error)}")
    for note in result.notes:
        console.print(f"note: {escape(result.implementation)}: {escape(note)}")
    if result.unimplemented:
        names = ", ".join(escape(label) for label in result.unimplemented)
        console.print(f"[red]{escape(result.implementation)}: not implemented (501): {names}[/]")
    if coverage is not None:
        _coverage(console, coverage)
    ok = result.ok and (coverage is None or coverage.ok)
    problems = [f"{len(result.failures)} failing checks"] if result.failures else []
    problems += [f"{len(result.errors)} errors"] if result.errors else []
    problems += [f"{coverage.missing} documented statuses never observed"] if coverage and not coverage.ok else []
    verdict = "[green]passed[/]" if ok else f"[red]{', '.join(problems) or 'failed'}[/]"
    console.print(f"{escape(result.implementation)}: {verdict}; JUnit report {escape(str(result.junit))}")


def _coverage(console: Console, coverage: Coverage) -> None:
    name = escape(coverage.implementation)
    where = coverage.where
    for operation in coverage.operations.values():
        if not operation.unobserved:
            continue
        tag = "[red]UNOBSERVED[/]" if coverage.required else "[yellow]unobserved[/]"
        console.print(
            f"{tag} {name} {escape(operation.label)} ({escape(operation.operation_id)}): documented "
            f"{', '.join(operation.unobserved)}, never answered in {escape(where)}"
        )
    for stale in coverage.stale:
        console.print(f"[yellow]note[/] {name}: {escape(stale)}")
