"""The conformance matrix (operation x implementation: cases run, failures per check) and the failure list."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from twinapi_conformance.fuzz import FuzzResult

# How many failures of one (implementation, operation, check) are spelled out; the rest are counted.
SHOWN_PER_CHECK = 2


def render(console: Console, labels: list[str], results: list[FuzzResult]) -> None:
    table = Table(title="Conformance matrix (cases run; failing cases per check)", show_lines=True)
    table.add_column("operation", style="bold")
    for result in results:
        table.add_column(f"{result.implementation} (seed {result.seed})")
    seen = dict.fromkeys(labels)
    for result in results:
        seen.update(dict.fromkeys(result.operations))
    for label in seen:
        row = [label]
        for result in results:
            tally = result.operations.get(label)
            if tally is None:
                row.append("[yellow]not tested[/]")
                continue
            failed = "\n".join(f"[red]{check}: {count}[/]" for check, count in sorted(tally.failures.items()))
            row.append(f"{tally.cases} cases" + (f"\n{failed}" if failed else " [green]ok[/]"))
        table.add_row(*row)
    console.print(table)
    for result in results:
        _failures(console, result)


def _failures(console: Console, result: FuzzResult) -> None:
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
    verdict = "[green]passed[/]" if result.ok else f"[red]{len(result.failures)} failing checks[/]"
    console.print(f"{result.implementation}: {verdict}; JUnit report {result.junit}")
