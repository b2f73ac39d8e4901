"""`python -m twinapi_bench run [--quick] [--mode MODE] [--duration S] [--connections N] [--only NAME ...]`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from twinapi_bench import report, servers
from twinapi_bench.run import MODES, Options, run
from twinapi_bench.scaleout import BALANCER
from twinapi_bench.servers import BENCH, ServerError
from twinapi_bench.workloads import BY_KEY

RESULTS = BENCH / "results"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m twinapi_bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="benchmark both implementations beside the reference servers")
    r.add_argument("--quick", action="store_true", help="a few seconds per workload, single process, few references")
    r.add_argument("--duration", type=float, help="seconds measured per run (default 10, quick 2)")
    r.add_argument("--warmup", type=float, help="seconds of warm-up before each run (default 3, quick 1)")
    r.add_argument(
        "--server-warmup",
        type=float,
        help="seconds each server is driven through its workloads once after it starts (default 15, quick 5)",
    )
    r.add_argument("--connections", type=int, default=64, help="connections of the main table (default 64)")
    r.add_argument("--sweep", type=int, nargs="*", help="connection counts for the read/write sweep")
    r.add_argument(
        "--mode",
        choices=[*MODES, "both", "every"],
        help="single process, all cores (both: the two, on SQLite), one process on PostgreSQL, or the scaled-out set"
        " behind HAProxy beside one instance of each (scale); default every, quick single",
    )
    r.add_argument("--workers", type=int, help="processes per server in all-cores mode (default: cores)")
    r.add_argument(
        "--only",
        nargs="+",
        default=[],
        metavar="NAME",
        help=f"workloads ({', '.join(BY_KEY)}) and/or server keys (node-impl, fastify, ...)",
    )
    r.add_argument("--no-granian", action="store_true", help="skip the granian variants")
    r.add_argument("--no-build", action="store_true", help="use node-impl/dist as it is (make bench builds first)")
    r.add_argument("--bcrypt-rounds", type=int, help="BCRYPT_ROUNDS of the servers (default 10, quick 6)")
    r.add_argument(
        "--log-level",
        default="warning",
        choices=["debug", "info", "warning", "error"],
        help="LOG_LEVEL of the servers (default warning: no access log, like the references)",
    )
    r.add_argument("--tree", type=Path, help="a checkout whose python-impl and node-impl to run (default: this one)")
    r.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON and the PNG")
    args = parser.parse_args(argv)
    servers_known = [*(s.key for s in servers.specs("single", 1, granian=True, references=None)), BALANCER]
    unknown = [name for name in args.only if name not in BY_KEY and name not in servers_known]
    if unknown:
        parser.error(
            f"--only: unknown {', '.join(unknown)}; workloads are {', '.join(BY_KEY)},"
            f" servers are {', '.join(servers_known)}"
        )

    overrides: dict[str, object] = {
        "connections": args.connections,
        "only": tuple(args.only),
        "build": not args.no_build,
        "log_level": args.log_level,
    }
    for name, value in (
        ("duration_s", args.duration),
        ("warmup_s", args.warmup),
        ("server_warmup_s", args.server_warmup),
        ("workers", args.workers),
        ("bcrypt_rounds", args.bcrypt_rounds),
    ):
        if value is not None:
            overrides[name] = value
    if args.sweep is not None:
        overrides["sweep"] = tuple(args.sweep)
    if args.mode is not None:
        choice = {"both": ("single", "all"), "every": MODES}
        overrides["modes"] = choice.get(args.mode, (args.mode,))
    if args.no_granian:
        overrides["granian"] = False
    options = Options.quick_defaults(**overrides) if args.quick else Options(**overrides)  # type: ignore[arg-type]

    if args.tree is not None:
        servers.use_tree(args.tree.resolve())

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        result = run(options, log)
    except ServerError as exc:
        log(f"error: {exc}")
        return 2
    if not result["runs"]:
        log("error: nothing was measured: --only leaves no workload of a server that runs in the chosen modes")
        return 2
    result["like_for_like"] = report.like_for_like(result)
    result["ratios"] = report.ratios(result)
    result["scale"] = report.scale_ratios(result)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + ("-quick" if options.quick else "")
    json_path = args.out / f"bench-{stamp}.json"
    png_path = args.out / f"bench-{stamp}.png"
    result["chart"] = png_path.name
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    report.chart(result, png_path)
    print(report.markdown(result))
    print(f"results: {json_path}\nchart:   {png_path}")
    return 0 if result["valid"] else 1


if __name__ == "__main__":
    sys.exit(main())
