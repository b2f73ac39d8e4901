"""What a run shows: the blog-style table, the implementations per workload, ratios against targets, a chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODES = {"single": "single process", "all": "all cores"}
PY, NODE = "python-impl/uvicorn", "node-impl"


def find(result: dict[str, Any], mode: str, server: str, workload: str, connections: int) -> dict[str, Any] | None:
    for r in result["runs"]:
        if (r["mode"], r["server"], r["workload"], r["connections"]) == (mode, server, workload, connections):
            return r if "rps" in r else None
    return None


def ratios(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each issue target that this run measured, per mode: the ratio (or value), the target, met or not."""
    c = result["config"]["connections"]
    out: list[dict[str, Any]] = []

    def ratio(mode: str, name: str, num: str, den: str, workload: str, target: float, metric: str = "rps") -> None:
        a, b = find(result, mode, num, workload, c), find(result, mode, den, workload, c)
        if a and b:
            value = _metric(a, metric) / _metric(b, metric)
            # The same ratio from CPU time per request (the denominator's over the numerator's).
            cpu_a, cpu_b = a.get("server_cpu_us_per_request"), b.get("server_cpu_us_per_request")
            by_cpu = round(cpu_b / cpu_a, 3) if metric == "rps" and cpu_a and cpu_b else None
            met = value <= target if metric == "peak_rss_mb" else value >= target
            op = "<=" if metric == "peak_rss_mb" else ">="
            out.append(
                {
                    "mode": mode,
                    "name": name,
                    "workload": workload,
                    "numerator": num,
                    "denominator": den,
                    "metric": metric,
                    "value": round(value, 3),
                    "value_by_cpu": by_cpu,
                    "target": f"{op} {target}",
                    "met": met,
                }
            )

    def limit(mode: str, name: str, server: str, workload: str, connections: int, ms: float) -> None:
        r = find(result, mode, server, workload, connections)
        if r:
            value = r["latency_ms"]["p99"]
            out.append(
                {
                    "mode": mode,
                    "name": name,
                    "workload": workload,
                    "numerator": server,
                    "denominator": None,
                    "metric": "p99_ms",
                    "value": round(value, 2),
                    "value_by_cpu": None,
                    "target": f"<= {ms} ms",
                    "met": value <= ms and r["errors"]["timeout"] == 0,
                }
            )

    for mode in result["config"]["modes"]:
        ratio(mode, "Node impl / bare Fastify", NODE, "fastify", "health", 0.9)
        for server in ("uvicorn", "granian"):
            impl = f"python-impl/{server}"
            ratio(mode, f"Python impl / idiomatic FastAPI ({server})", impl, f"fastapi/{server}", "health", 2.0)
            ratio(mode, f"Python impl / raw ASGI ({server})", impl, f"asgi/{server}", "health", 0.5)
            ratio(mode, f"Python ({server}) / Node on GET /tasks/{{id}}", impl, NODE, "get-task", 0.4)
        ratio(mode, "Peak RSS: Node impl / bare Fastify", NODE, "fastify", "health", 1.2, "peak_rss_mb")
        ratio(mode, "Peak RSS: Python impl / FastAPI (uvicorn)", PY, "fastapi/uvicorn", "health", 1.2, "peak_rss_mb")
        for workload in ("health", "get-task", "list-tasks"):
            limit(mode, f"p99 Node, {workload}, {c} conn", NODE, workload, c, 5)
            for server in ("uvicorn", "granian"):
                limit(mode, f"p99 Python ({server}), {workload}, {c} conn", f"python-impl/{server}", workload, c, 10)
        if mode == "single":
            for workload in ("get-task", "create-task"):
                for server in (NODE, PY, "python-impl/granian"):
                    limit(mode, f"p99 {server}, {workload}, 256 conn", server, workload, 256, 100)
    return out


def _metric(run: dict[str, Any], metric: str) -> float:
    value: float = run[metric]
    return value


def markdown(result: dict[str, Any]) -> str:
    c = result["config"]["connections"]
    m = result["machine"]
    lines = [
        f"## Benchmark {result['started_at']} — {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; "
        f"Python {m['python']}, Node {m['node'].lstrip('v')}, {m['wrk']}",
        "",
        f"{result['config']['duration_s']:g} s per run after {result['config']['warmup_s']:g} s warm-up, "
        f"bcrypt cost {result['config']['bcrypt_rounds']}, LOG_LEVEL={result['config']['log_level']}. "
        + ("VALID: no errors, no non-2xx." if result["valid"] else "INVALID: see the runs marked !")
        + f" Load average (1/5/15 min) at start {_load(m, 'load_average_start')},"
        f" at end {_load(m, 'load_average_end')}.",
    ]
    for mode in result["config"]["modes"]:
        health = [
            r
            for r in result["runs"]
            if r["mode"] == mode and r["workload"] == "health" and "rps" in r and r["connections"] == c
        ]
        if not health:
            continue
        lines += [
            "",
            f"### GET /health, {c} connections, {MODES[mode]}",
            "",
            "| framework | language | server | req/s | p99 | memory |",
            "|---|---|---|---:|---:|---:|",
        ]
        for r in sorted(health, key=lambda r: -r["rps"]):
            lines.append(
                f"| {r['framework']}{_bad(r)} | {r['language']} | {r['http_server']} | {r['rps']:,.0f} | "
                f"{r['latency_ms']['p99']:.1f} ms | {r['peak_rss_mb']:.0f} MB |"
            )
    for mode in result["config"]["modes"]:
        impl = [r for r in result["runs"] if r["mode"] == mode and r["role"] == "impl"]
        if not impl:
            continue
        lines += [
            "",
            f"### The implementations per workload, {MODES[mode]}",
            "",
            "| workload | conn | implementation | req/s | p50 | p99 | max | RSS | CPU server | µs CPU/req | CPU wrk |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        order = {w: i for i, w in enumerate(dict.fromkeys(r["workload"] for r in result["runs"]))}
        for r in sorted(
            impl, key=lambda r: (r["connections"] != c, order[r["workload"]], r["connections"], r["server"])
        ):
            if "rps" not in r:
                lines.append(f"| {r['request']} | {r['connections']} | {r['server']} ! | failed | | | | | | | |")
                continue
            lat = r["latency_ms"]
            lines.append(
                f"| {r['request']} | {r['connections']} | {r['server']}{_bad(r)} | {r['rps']:,.0f} | "
                f"{lat['p50']:.2f} ms | {lat['p99']:.2f} ms | {lat['max']:.0f} ms | {r['peak_rss_mb']:.0f} MB | "
                f"{r['server_cpu_s']:.1f} s | {r.get('server_cpu_us_per_request') or 0:.0f} | "
                f"{r['loadgen_cpu_s']:.1f} s |"
            )
    found = result.get("ratios") or ratios(result)
    if found:
        lines += [
            "",
            "### Targets (ratios of req/s; beside them the same ratio from server CPU time per request)",
            "",
            "| mode | measure | value | by CPU/request | target | |",
            "|---|---|---:|---:|---|---|",
        ]
        for x in found:
            cpu = "" if x.get("value_by_cpu") is None else f"{x['value_by_cpu']:g}"
            lines.append(
                f"| {x['mode']} | {x['name']} | {x['value']:g} | {cpu} | {x['target']} | "
                f"{'met' if x['met'] else 'MISSED'} |"
            )
    bad = [r for r in result["runs"] if not r["valid"]]
    if bad or result["skipped"]:
        lines += ["", "### Problems", ""]
        lines += [
            f"- {r['mode']} {r['server']} {r['workload']} c={r['connections']}: {r.get('error') or r.get('errors')}"
            for r in bad
        ]
        lines += [f"- {s['mode']} {s['server']} not started: {s['reason'].splitlines()[0]}" for s in result["skipped"]]
    return "\n".join(lines) + "\n"


def _load(machine: dict[str, Any], key: str) -> str:
    return "/".join(f"{x:g}" for x in machine.get(key) or []) or "?"


def _bad(run: dict[str, Any]) -> str:
    return "" if run["valid"] else " !"


def chart(result: dict[str, Any], path: Path) -> Path:
    """Throughput and p99 per workload (the configured connection count), the implementations side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    c = result["config"]["connections"]
    modes = [m for m in result["config"]["modes"] if any(r["mode"] == m for r in result["runs"])]
    workloads = list(dict.fromkeys(r["workload"] for r in result["runs"] if r["role"] == "impl"))
    titles = {r["workload"]: r["request"] for r in result["runs"]}
    impls = [
        s
        for s in ("node-impl", "python-impl/uvicorn", "python-impl/granian")
        if any(r["server"] == s for r in result["runs"])
    ]
    colours = {"node-impl": "#3c873a", "python-impl/uvicorn": "#306998", "python-impl/granian": "#ffb000"}
    labels = {
        "node-impl": "Node impl (Fastify + glue)",
        "python-impl/uvicorn": "Python impl on uvicorn",
        "python-impl/granian": "Python impl on granian",
    }
    fig, axes = plt.subplots(2, len(modes), figsize=(7.5 * len(modes), 9), squeeze=False)
    width = 0.8 / max(1, len(impls))
    for col, mode in enumerate(modes):
        for row, (metric, unit) in enumerate((("rps", "requests per second"), ("p99", "p99 latency (ms)"))):
            ax = axes[row][col]
            for i, server in enumerate(impls):
                xs, ys = [], []
                for j, workload in enumerate(workloads):
                    r = find(result, mode, server, workload, c)
                    if r:
                        xs.append(j + (i - (len(impls) - 1) / 2) * width)
                        ys.append(r["rps"] if metric == "rps" else r["latency_ms"]["p99"])
                bars = ax.bar(xs, ys, width, label=labels[server], color=colours[server])
                ax.bar_label(bars, labels=[_short(y, metric) for y in ys], fontsize=7, padding=2, rotation=90)
            ax.set_xticks(range(len(workloads)))
            ax.set_xticklabels(
                [titles[w].replace(" If-Match", "\nIf-Match").replace("?", "\n?") for w in workloads], fontsize=8
            )
            ax.set_ylabel(unit + " (log scale)")
            # Log scale: login (bcrypt) and GET /health differ by three orders of magnitude.
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: f"{y:,.0f}" if y >= 1 else f"{y:g}"))
            ax.yaxis.set_minor_formatter(NullFormatter())
            ax.margins(y=0.3)
            if metric == "rps":
                ax.set_ylim(bottom=1)
            ax.set_title(
                f"{'Throughput' if metric == 'rps' else 'p99 latency'}, {MODES[mode]}, {c} connections"
                + (" (higher is better)" if metric == "rps" else " (lower is better)"),
                fontsize=10,
            )
            ax.grid(axis="y", alpha=0.3)
            if row == 0 and col == 0:
                ax.legend(fontsize=8, loc="upper right")
    m = result["machine"]
    fig.suptitle(
        f"twinapi benchmark, {result['started_at'][:16].replace('T', ' ')} UTC"
        + ("" if result["valid"] else " (INVALID RUN: errors or non-2xx)")
        + f"\n{m['cores']} cores ({m['cpu']}), wrk on the same machine",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _short(value: float, metric: str) -> str:
    if metric == "rps":
        return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"
