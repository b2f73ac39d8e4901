"""Reading wrk's output, writing its scripts, and one real run against the raw ASGI reference."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from twinapi_bench import servers, wrk

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (make bench-setup)")

OUTPUT = """Running 5s test @ http://127.0.0.1:3955/health
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.18ms    0.87ms  22.92ms   93.51%
    Req/Sec    29.00k     4.64k   37.03k    74.00%
  Latency Distribution
     50%    1.02ms
     75%    1.24ms
     90%    1.66ms
     99%    4.30ms
  288792 requests in 5.01s, 62.79MB read
  Socket errors: connect 0, read 3, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:  57671.49
Transfer/sec:     12.54MB
BENCH_JSON {"requests":288792,"duration_us":5007535,"bytes":65844576,"errors":{"connect":0,"read":3,"write":0,\
"status":7,"timeout":2},"latency_us":{"min":42,"mean":1176.8,"stdev":866.7,"max":22922,"p50":1019,"p90":1659,\
"p99":4298,"p999":12643}}
"""


def test_parse_reads_the_report_line() -> None:
    result = wrk.parse(OUTPUT, loadgen_cpu_s=2.5)
    assert result.requests == 288792
    assert result.rps == pytest.approx(288792 / 5.007535)
    assert result.latency_ms["p50"] == pytest.approx(1.019)
    assert result.latency_ms["p99"] == pytest.approx(4.298)
    assert result.latency_ms["max"] == pytest.approx(22.922)
    assert result.errors == {"connect": 0, "read": 3, "write": 0, "timeout": 2, "status": 7}
    assert result.loadgen_cpu_s == 2.5
    assert not result.valid


def test_parse_text_reads_the_human_summary() -> None:
    found = wrk.parse_text(OUTPUT)
    assert found["requests"] == 288792
    assert found["duration_ms"] == pytest.approx(5010)
    assert found["rps"] == pytest.approx(57671.49)
    assert (found["read"], found["timeout"], found["non_2xx"]) == (3, 2, 7)
    assert (found["p50_ms"], found["p99_ms"]) == (pytest.approx(1.02), pytest.approx(4.30))


def test_a_clean_run_is_valid_and_has_no_error_lines() -> None:
    clean = (
        "\n".join(line for line in OUTPUT.splitlines() if not line.lstrip().startswith(("Socket errors", "Non-2xx")))
        .replace('"read":3', '"read":0')
        .replace('"status":7', '"status":0')
        .replace('"timeout":2', '"timeout":0')
    )
    result = wrk.parse(clean)
    assert result.valid
    assert result.errors == dict.fromkeys(("connect", "read", "write", "timeout", "status"), 0)


def test_text_and_report_must_agree_on_non_2xx() -> None:
    with pytest.raises(wrk.WrkError, match="non-2xx"):
        wrk.parse(OUTPUT.replace("Non-2xx or 3xx responses: 7", "Non-2xx or 3xx responses: 8"))


def test_output_without_the_report_line_is_an_error() -> None:
    with pytest.raises(wrk.WrkError, match="BENCH_JSON"):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")


@pytest.mark.parametrize(("text", "ms"), [("812.00us", 0.812), ("1.23ms", 1.23), ("2.01s", 2010), ("1.00m", 60000)])
def test_durations(text: str, ms: float) -> None:
    assert wrk.duration_ms(text) == pytest.approx(ms)


def test_lua_literal() -> None:
    assert wrk.lua_literal(["GET", "/tasks/a", 1, None]) == '{"GET","/tasks/a",1,nil}'
    assert wrk.lua_literal({"a": True}) == '{["a"]=true}'
    assert wrk.lua_literal('{"title":"x \\"y\\""}') == json.dumps('{"title":"x \\"y\\""}')


def test_only_loopback_is_loaded(tmp_path: Path) -> None:
    with pytest.raises(wrk.WrkError, match="127.0.0.1"):
        wrk.run("http://example.com/", tmp_path / "x.lua", connections=1, threads=1, duration_s=1, timeout_s=1)


@needs_wrk
def test_a_real_run_against_the_raw_asgi_reference(tmp_path: Path) -> None:
    spec = next(
        s for s in servers.specs("single", 1, granian=False, references={"asgi/uvicorn"}) if s.key == "asgi/uvicorn"
    )
    settings = servers.Settings("x" * 48, 3600, 4, "warning")
    server = servers.start(spec, "single", 1, settings, tmp_path, seed_db=None)
    try:
        script = wrk.write_script(tmp_path / "health.lua", None, {})
        result = wrk.run(server.url + "/health", script, connections=4, threads=1, duration_s=1, timeout_s=2)
        missing = wrk.run(server.url + "/nothing", script, connections=4, threads=1, duration_s=1, timeout_s=2)
    finally:
        server.stop()
    assert result.valid and result.requests > 0 and result.loadgen_cpu_s > 0
    assert 0 < result.latency_ms["p50"] <= result.latency_ms["p99"] <= result.latency_ms["max"]
    assert not missing.valid and missing.errors["status"] == missing.requests  # every 404 is counted
    assert subprocess.run(["kill", "-0", str(server.proc.pid)], capture_output=True).returncode != 0
