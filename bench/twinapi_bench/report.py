"""What a run shows: the blog-style table, the implementations per workload, ratios against targets, a chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from twinapi_bench.run import MEASURED_ROLES, PAIRS
from twinapi_bench.scaleout import BALANCER

MODES = {
    "single": "single process",
    "all": "all cores",
    "postgresql": "single process on PostgreSQL",
    "scale": "scale-out on PostgreSQL (HAProxy, 2 + 2)",
}
PY, NODE = "python-impl/uvicorn", "node-impl"
# The like-for-like targets: kit ÷ the idiomatic reference of the same API, on every workload but login
# (bcrypt-bound: both sides wait for the same hashes, so the ratio says nothing about the layers around it).
LIKE_TARGET = {"python-impl/uvicorn": 2.0, "python-impl/granian": 2.0, "node-impl": 0.95}
UNTARGETED = {"login"}
SHORT = {
    "python-impl/uvicorn": "Python kit (uvicorn)",
    "python-impl/granian": "Python kit (granian)",
    "node-impl": "Node kit",
    "fastapi-tasks/uvicorn": "FastAPI API (uvicorn)",
    "fastapi-tasks/granian": "FastAPI API (granian)",
    "fastify-tasks": "Fastify API",
    BALANCER: "HAProxy, 2 + 2 instances",
}


def find(result: dict[str, Any], mode: str, server: str, workload: str, connections: int) -> dict[str, Any] | None:
    for r in result["runs"]:
        if (r["mode"], r["server"], r["workload"], r["connections"]) == (mode, server, workload, connections):
            return r if "rps" in r else None
    return None


def like_for_like(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every workload and connection count measured on both an implementation and its idiomatic reference."""
    out: list[dict[str, Any]] = []
    keys = dict.fromkeys((r["mode"], r["workload"], r["connections"]) for r in result["runs"])
    for mode, workload, connections in keys:
        for impl, ref in PAIRS:
            a, b = find(result, mode, impl, workload, connections), find(result, mode, ref, workload, connections)
            if not (a and b and a["rps"] and b["rps"]):
                continue
            cpu_a, cpu_b = a.get("server_cpu_us_per_request"), b.get("server_cpu_us_per_request")
            target = None if workload in UNTARGETED else LIKE_TARGET[impl]
            value = a["rps"] / b["rps"]
            out.append(
                {
                    "mode": mode,
                    "workload": workload,
                    "request": a["request"],
                    "connections": connections,
                    "implementation": impl,
                    "reference": ref,
                    "rps": [a["rps"], b["rps"]],
                    "p50_ms": [a["latency_ms"]["p50"], b["latency_ms"]["p50"]],
                    "p99_ms": [a["latency_ms"]["p99"], b["latency_ms"]["p99"]],
                    "peak_rss_mb": [a["peak_rss_mb"], b["peak_rss_mb"]],
                    "server_cpu_us_per_request": [cpu_a, cpu_b],
                    "ratio": round(value, 3),
                    "ratio_by_cpu": round(cpu_b / cpu_a, 3) if cpu_a and cpu_b else None,
                    "target": None if target is None else f">= {target}",
                    "met": None if target is None else value >= target,
                    "valid": a["valid"] and b["valid"],
                }
            )
    return out


def scale_ratios(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The scaled-out set against one instance of each implementation in the same deployment, per workload: the
    balancer's req/s over the instance's, and the same from server CPU per request (the instance's over the set's,
    whose CPU is HAProxy's and every instance's)."""
    c = result["config"]["connections"]
    out: list[dict[str, Any]] = []
    workloads = dict.fromkeys(r["workload"] for r in result["runs"] if r["mode"] == "scale")
    for workload in workloads:
        whole = find(result, "scale", BALANCER, workload, c)
        for one in (PY, NODE):
            single = find(result, "scale", one, workload, c)
            if not (whole and single and single["rps"]):
                continue
            cpu_set, cpu_one = whole.get("server_cpu_us_per_request"), single.get("server_cpu_us_per_request")
            out.append(
                {
                    "workload": workload,
                    "request": whole["request"],
                    "connections": c,
                    "versus": one,
                    "instances": whole["instances"],
                    "rps": [whole["rps"], single["rps"]],
                    "server_cpu_us_per_request": [cpu_set, cpu_one],
                    "ratio": round(whole["rps"] / single["rps"], 3),
                    "ratio_by_cpu": round(cpu_one / cpu_set, 3) if cpu_set and cpu_one else None,
                    "valid": whole["valid"] and single["valid"],
                }
            )
    return out


def ratios(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each issue target that this run measured, per mode: the ratio (or value), the target, met or not."""
    c = result["config"]["connections"]
    out: list[dict[str, Any]] = []

    def ratio(
        mode: str, name: str, num: str, den: str, workload: str, target: float | None, metric: str = "rps"
    ) -> None:
        a, b = find(result, mode, num, workload, c), find(result, mode, den, workload, c)
        if a and b and _metric(b, metric):
            value = _metric(a, metric) / _metric(b, metric)
            # The same ratio from CPU time per request (the denominator's over the numerator's).
            cpu_a, cpu_b = a.get("server_cpu_us_per_request"), b.get("server_cpu_us_per_request")
            by_cpu = round(cpu_b / cpu_a, 3) if metric == "rps" and cpu_a and cpu_b else None
            op = "<=" if metric == "peak_rss_mb" else ">="
            met = None if target is None else (value <= target if op == "<=" else value >= target)
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
                    "target": None if target is None else f"{op} {target}",
                    "met": met,
                }
            )

    def spread(mode: str, server: str, workload: str) -> None:
        r = find(result, mode, server, workload, c)
        if r and r["latency_ms"]["p50"]:
            value = r["latency_ms"]["p99"] / r["latency_ms"]["p50"]
            out.append(
                {
                    "mode": mode,
                    "name": f"p99 / p50, {SHORT.get(server, server)}, {workload}, {c} conn",
                    "workload": workload,
                    "numerator": server,
                    "denominator": None,
                    "metric": "p99_over_p50",
                    "value": round(value, 2),
                    "value_by_cpu": None,
                    "target": "<= 3",
                    "met": value <= 3,
                }
            )

    def peak(mode: str, name: str, num: str, den: str) -> None:
        # The highest RSS each reached over the workloads both served: what a deployment has to provision.
        shared = {r["workload"] for r in result["runs"] if r["mode"] == mode and r["server"] == num} & {
            r["workload"] for r in result["runs"] if r["mode"] == mode and r["server"] == den
        }
        runs = [find(result, mode, key, w, c) for key in (num, den) for w in sorted(shared)]
        if not shared or not all(runs):
            return
        high = {key: max(r["peak_rss_mb"] for r in runs if r and r["server"] == key) for key in (num, den)}
        value = high[num] / high[den]
        out.append(
            {
                "mode": mode,
                "name": name,
                "workload": "all",
                "numerator": num,
                "denominator": den,
                "metric": "peak_rss_mb",
                "value": round(value, 3),
                "value_by_cpu": None,
                "target": "<= 1.2",
                "met": value <= 1.2,
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
            ratio(mode, f"Python ({server}) / Node on GET /tasks/{{id}}", impl, NODE, "get-task", 0.5)
        ratio(mode, "Peak RSS: Node impl / bare Fastify", NODE, "fastify", "health", 1.2, "peak_rss_mb")
        ratio(mode, "Peak RSS: Python impl / FastAPI (uvicorn)", PY, "fastapi/uvicorn", "health", 1.2, "peak_rss_mb")
        workloads = list(dict.fromkeys(r["workload"] for r in result["runs"] if r["role"] == "api"))
        for impl, ref in PAIRS:
            for workload in workloads:
                target = None if workload in UNTARGETED else LIKE_TARGET[impl]
                ratio(mode, f"{SHORT[impl]} / {SHORT[ref]}, {workload}", impl, ref, workload, target)
            peak(mode, f"Peak RSS: {SHORT[impl]} / {SHORT[ref]}", impl, ref)
        for impl, _ in PAIRS:
            for workload in workloads:
                if workload not in UNTARGETED:
                    spread(mode, impl, workload)
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
        impl = [r for r in result["runs"] if r["mode"] == mode and r["role"] in MEASURED_ROLES]
        if not impl:
            continue
        lines += [
            "",
            f"### The implementations and the idiomatic references of the same API per workload, {MODES[mode]}",
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
    pairs = result.get("like_for_like") or like_for_like(result)
    for mode in result["config"]["modes"]:
        rows = [x for x in pairs if x["mode"] == mode]
        if not rows:
            continue
        lines += [
            "",
            f"### Like for like: kit ÷ the same API written idiomatically, same server, {MODES[mode]}",
            "",
            "| workload | conn | kit | reference | kit req/s | ref req/s | ratio | by CPU/request "
            "| kit p50 / p99 | ref p50 / p99 | target |",
            "|---|---:|---|---|---:|---:|---:|---:|---:|---:|---|",
        ]
        for x in rows:
            cpu = "" if x["ratio_by_cpu"] is None else f"{x['ratio_by_cpu']:.2f}"
            verdict = "n/a" if x["met"] is None else ("met" if x["met"] else "MISSED")
            lines.append(
                f"| {x['request']} | {x['connections']} | {SHORT[x['implementation']]} | {SHORT[x['reference']]} | "
                f"{x['rps'][0]:,.0f} | {x['rps'][1]:,.0f} | {x['ratio']:.2f} | {cpu} | "
                f"{x['p50_ms'][0]:.1f} / {x['p99_ms'][0]:.1f} ms | {x['p50_ms'][1]:.1f} / {x['p99_ms'][1]:.1f} ms | "
                f"{x['target'] or ''} {verdict}{'' if x['valid'] else ' !'} |"
            )
    scaled = result.get("scale") or scale_ratios(result)
    if scaled:
        lines += [
            "",
            f"### The scaled-out set ÷ one instance on the same deployment, {c} connections",
            "",
            "| workload | set req/s | instance | instance req/s | ratio | set µs CPU/req | instance µs CPU/req "
            "| ratio by CPU/request |",
            "|---|---:|---|---:|---:|---:|---:|---:|",
        ]
        for x in scaled:
            cpu = "" if x["ratio_by_cpu"] is None else f"{x['ratio_by_cpu']:.2f}"
            per = [f"{v:.0f}" if v else "" for v in x["server_cpu_us_per_request"]]
            lines.append(
                f"| {x['request']} | {x['rps'][0]:,.0f} | {SHORT[x['versus']]} | {x['rps'][1]:,.0f} | "
                f"{x['ratio']:.2f}{'' if x['valid'] else ' !'} | {per[0]} | {per[1]} | {cpu} |"
            )
        lines.append(
            f"\nThe set's CPU is HAProxy's and all {scaled[0]['instances']} instances'; PostgreSQL's is in no figure."
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
            verdict = "n/a" if x["met"] is None else ("met" if x["met"] else "MISSED")
            lines.append(f"| {x['mode']} | {x['name']} | {x['value']:g} | {cpu} | {x['target'] or '—'} | {verdict} |")
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
    """Throughput, p99 and the like-for-like ratios per workload (the configured connection count).

    Each implementation's bar stands beside the idiomatic reference of the same API on the same server (hatched).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    c = result["config"]["connections"]
    modes = [m for m in result["config"]["modes"] if any(r["mode"] == m for r in result["runs"])]
    # Every workload measured, the implementations' first: a run of the references alone has a chart too.
    workloads = list(dict.fromkeys(r["workload"] for r in sorted(result["runs"], key=lambda r: r["role"] != "impl")))
    titles = {r["workload"]: r["request"] for r in result["runs"]}
    impls = [
        s for s in (*(k for pair in PAIRS for k in pair), BALANCER) if any(r["server"] == s for r in result["runs"])
    ]
    colours = {
        "node-impl": "#3c873a",
        "fastify-tasks": "#3c873a",
        "python-impl/uvicorn": "#306998",
        "fastapi-tasks/uvicorn": "#306998",
        "python-impl/granian": "#ffb000",
        "fastapi-tasks/granian": "#ffb000",
        BALANCER: "#8e44ad",
    }
    labels = {
        "node-impl": "Node impl (Fastify + glue)",
        "fastify-tasks": "Fastify, same API, idiomatic",
        "python-impl/uvicorn": "Python impl on uvicorn",
        "fastapi-tasks/uvicorn": "FastAPI on uvicorn, same API, idiomatic",
        "python-impl/granian": "Python impl on granian",
        "fastapi-tasks/granian": "FastAPI on granian, same API, idiomatic",
        BALANCER: "HAProxy in front of 2 Python + 2 Node instances",
    }
    pairs = [x for x in (result.get("like_for_like") or like_for_like(result)) if x["connections"] == c]
    fig, axes = plt.subplots(3, len(modes), figsize=(8.5 * len(modes), 13), squeeze=False)
    for col, mode in enumerate(modes):
        # Only the servers of this mode get a slot, so that no mode's bars stand apart around empty ones.
        shown = [s for s in impls if any(r["mode"] == mode and r["server"] == s for r in result["runs"])]
        width = 0.8 / max(1, len(shown))
        for row, (metric, unit) in enumerate((("rps", "requests per second"), ("p99", "p99 latency (ms)"))):
            ax = axes[row][col]
            for i, server in enumerate(shown):
                xs, ys = [], []
                for j, workload in enumerate(workloads):
                    r = find(result, mode, server, workload, c)
                    if r:
                        xs.append(j + (i - (len(shown) - 1) / 2) * width)
                        ys.append(r["rps"] if metric == "rps" else r["latency_ms"]["p99"])
                hatch = "//" if server not in LIKE_TARGET and server != BALANCER else None
                bars = ax.bar(
                    xs, ys, width, label=labels[server], color=colours[server], hatch=hatch, edgecolor="white"
                )
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
            if row == 0 and (col == 0 or mode == "scale"):
                if col > 0:  # a legend of its own: room above the bars for it (log scale)
                    ax.set_ylim(top=ax.get_ylim()[1] * 6)
                ax.legend(fontsize=7, loc="upper right", ncol=2 if len(shown) > 3 else 1)
        ax = axes[2][col]
        if mode == "scale":
            _scale_panel(ax, result, workloads, titles, colours)
            continue
        kits = [impl for impl, _ in PAIRS if any(x["implementation"] == impl and x["mode"] == mode for x in pairs)]
        if not kits:
            # PostgreSQL: the idiomatic references speak SQLite only, so there is no ratio to draw.
            ax.text(0.5, 0.5, f"No idiomatic reference measured, {MODES[mode]}", ha="center", transform=ax.transAxes)
            ax.set_axis_off()
            continue
        rwidth = 0.8 / max(1, len(kits))
        for i, impl in enumerate(kits):
            mine = {x["workload"]: x for x in pairs if x["mode"] == mode and x["implementation"] == impl}
            xs = [j + (i - (len(kits) - 1) / 2) * rwidth for j, w in enumerate(workloads) if w in mine]
            ys = [mine[w]["ratio"] for w in workloads if w in mine]
            bars = ax.bar(xs, ys, rwidth, label=f"{SHORT[impl]} ÷ its reference", color=colours[impl])
            ax.bar_label(bars, labels=[f"{y:.2f}" for y in ys], fontsize=7, padding=2)
        for impl in kits:
            ax.axhline(LIKE_TARGET[impl], color=colours[impl], linestyle="--", linewidth=1)
        ax.axhline(1, color="black", linewidth=0.8)
        ax.set_xticks(range(len(workloads)))
        ax.set_xticklabels(
            [titles[w].replace(" If-Match", "\nIf-Match").replace("?", "\n?") for w in workloads], fontsize=8
        )
        ax.set_ylabel("kit req/s ÷ reference req/s")
        ax.set_title(f"Like for like, {MODES[mode]}, {c} connections (dashed: targets; login untargeted)", fontsize=10)
        ax.margins(y=0.2)
        ax.grid(axis="y", alpha=0.3)
        if col == 0 and kits:
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


def _scale_panel(
    ax: Any, result: dict[str, Any], workloads: list[str], titles: dict[str, str], colours: dict[str, str]
) -> None:
    """The scaled-out set's req/s over one instance's of each implementation, on the same deployment."""
    scaled = result.get("scale") or scale_ratios(result)
    ones = [one for one in (PY, NODE) if any(x["versus"] == one for x in scaled)]
    if not ones:
        ax.text(
            0.5,
            0.5,
            "The scaled-out set and its single instances were not both measured",
            ha="center",
            transform=ax.transAxes,
        )
        ax.set_axis_off()
        return
    width = 0.8 / len(ones)
    for i, one in enumerate(ones):
        mine = {x["workload"]: x for x in scaled if x["versus"] == one}
        xs = [j + (i - (len(ones) - 1) / 2) * width for j, w in enumerate(workloads) if w in mine]
        ys = [mine[w]["ratio"] for w in workloads if w in mine]
        bars = ax.bar(xs, ys, width, label=f"the set ÷ one {SHORT[one]} instance", color=colours[one])
        ax.bar_label(bars, labels=[f"{y:.2f}" for y in ys], fontsize=7, padding=2)
    ax.axhline(1, color="black", linewidth=0.8)
    ax.set_xticks(range(len(workloads)))
    ax.set_xticklabels(
        [titles[w].replace(" If-Match", "\nIf-Match").replace("?", "\n?") for w in workloads], fontsize=8
    )
    ax.set_ylabel("set req/s ÷ one instance's req/s")
    ax.set_title("Scaled-out set ÷ one instance, same deployment (all on this machine's cores)", fontsize=10)
    ax.margins(y=0.2)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right")


def _short(value: float, metric: str) -> str:
    if metric == "rps":
        return f"{value / 1000:.1f}k" if value >= 1000 else f"{value:.0f}"
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"
