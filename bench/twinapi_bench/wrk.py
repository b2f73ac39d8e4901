"""Driving wrk: generated Lua scripts, one bounded run, and parsing what it prints."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LUA = Path(__file__).parent / "lua"
_MARK = "BENCH_JSON "
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0, "h": 3600000.0}
_NUMBER = re.compile(r"^([0-9.]+)([a-z]+)$")


class WrkError(Exception):
    """wrk is missing, failed, or printed something this module cannot read."""


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    rps: float
    latency_ms: dict[str, float]  # p50, p90, p99, p999, max, mean
    errors: dict[str, int]  # connect, read, write, timeout (socket level) and status (answers >= 400)
    loadgen_cpu_s: float
    text: str

    @property
    def valid(self) -> bool:
        return self.requests > 0 and not any(self.errors.values())


def lua_literal(value: Any) -> str:
    """A Lua literal of plain data (lists become sequences, dicts tables, None nil)."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid Lua escapes for ASCII data
    if isinstance(value, list | tuple):
        return "{" + ",".join(lua_literal(v) for v in value) + "}"
    if isinstance(value, dict):
        return "{" + ",".join(f"[{lua_literal(k)}]={lua_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Lua literal for {type(value).__name__}")


def write_script(path: Path, template: str | None, data: dict[str, Any]) -> Path:
    """The script wrk runs: the data as globals, the workload's template (None: a static request), the report."""
    parts = [f"{name} = {lua_literal(value)}" for name, value in data.items()]
    if template is not None:
        parts.append((LUA / template).read_text())
    parts.append((LUA / "report.lua").read_text())
    path.write_text("\n".join(parts) + "\n")
    return path


def run(
    url: str,
    script: Path,
    *,
    connections: int,
    threads: int,
    duration_s: float,
    timeout_s: float,
    headers: dict[str, str] | None = None,
) -> WrkResult:
    """One wrk run against a loopback URL; its CPU time comes from the kernel's accounting of the child."""
    if not url.startswith("http://127.0.0.1:"):
        raise WrkError(f"refusing to load anything but 127.0.0.1: {url}")
    binary = shutil.which("wrk")
    if binary is None:
        raise WrkError("wrk is not installed: run `make bench-setup` (apt-get install -y wrk)")
    threads = max(1, min(threads, connections))
    command = [
        binary,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        "--latency",
        "-s",
        str(script),
    ]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    out_path = script.with_suffix(".out")
    with out_path.open("wb") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        # wrk stops itself after -d; the watchdog only bounds a wrk that hangs.
        watchdog = threading.Timer(duration_s + timeout_s + 30, proc.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            watchdog.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, for the rusage
    text = out_path.read_text(errors="replace")
    if proc.returncode != 0:
        raise WrkError(f"wrk exited with {proc.returncode}: {text.strip()[-500:]}")
    return parse(text, usage.ru_utime + usage.ru_stime)


def parse(text: str, loadgen_cpu_s: float = 0.0) -> WrkResult:
    """Reads the report line of report.lua, cross-checked against wrk's own text summary."""
    line = next((ln for ln in text.splitlines() if ln.startswith(_MARK)), None)
    if line is None:
        raise WrkError(f"no {_MARK.strip()} line in wrk's output: {text.strip()[-500:]}")
    data = json.loads(line[len(_MARK) :])
    summary = parse_text(text)
    errors = {k: int(data["errors"][k]) for k in ("connect", "read", "write", "timeout", "status")}
    if summary.get("non_2xx", 0) != errors["status"]:
        raise WrkError(f"wrk's text says {summary.get('non_2xx', 0)} non-2xx answers, its report {errors['status']}")
    duration_s = data["duration_us"] / 1e6
    lat = data["latency_us"]
    return WrkResult(
        requests=int(data["requests"]),
        duration_s=duration_s,
        rps=data["requests"] / duration_s if duration_s else 0.0,
        latency_ms={k: lat[k] / 1000 for k in ("p50", "p90", "p99", "p999", "max", "mean")},
        errors=errors,
        loadgen_cpu_s=loadgen_cpu_s,
        text=text,
    )


def parse_text(text: str) -> dict[str, float]:
    """The human summary wrk prints: requests, req/s, socket errors, non-2xx, latency percentiles (ms)."""
    found: dict[str, float] = {}
    if m := re.search(r"^\s*(\d+) requests in ([0-9.]+\w+),", text, re.M):
        found["requests"] = int(m[1])
        found["duration_ms"] = duration_ms(m[2])
    if m := re.search(r"^Requests/sec:\s+([0-9.]+)", text, re.M):
        found["rps"] = float(m[1])
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        for name, value in zip(("connect", "read", "write", "timeout"), m.groups(), strict=True):
            found[name] = int(value)
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        found["non_2xx"] = int(m[1])
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)$", text, re.M):
        found[f"p{pct}_ms"] = duration_ms(value)
    return found


def duration_ms(value: str) -> float:
    """wrk's durations: 812.00us, 1.23ms, 2.01s, 1.00m."""
    m = _NUMBER.match(value.strip())
    if m is None or m[2] not in _UNITS:
        raise WrkError(f"not a wrk duration: {value!r}")
    return float(m[1]) * _UNITS[m[2]]
