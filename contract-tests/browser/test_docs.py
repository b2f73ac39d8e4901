"""`/docs` of both real servers in a real headless Chromium, offline: the contract's title and every operation.

Chromium may only reach 127.0.0.1 (every other host fails to resolve), so a page that needs a CDN renders blank
and fails here. `make docs-setup` installs Chromium (Debian's package); `make test-docs` runs this file.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest

from twinapi_conformance import config as configuration
from twinapi_conformance import servers
from twinapi_conformance.spec import METHODS, Spec

CONFIG = configuration.load()
SPEC = Spec.load(CONFIG.contract).raw
SCREENSHOTS = CONFIG.reports / "docs"
BROWSER_TIMEOUT = 120  # seconds for one Chromium run; the page itself gets a virtual time budget below


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail("Chromium is not installed: run `make docs-setup` (Debian's chromium package)")
    return found


def browse(url: str, *action: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="twinapi-chromium-") as profile:
        command = [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            # Offline: no host but the server's own resolves.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=15000",
            "--window-size=1280,2000",
            *action,
            url,
        ]
        return subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT, check=False)


def operations() -> list[dict[str, Any]]:
    found = []
    for path, item in (SPEC.get("paths") or {}).items():
        for method in METHODS:
            op = (item or {}).get(method)
            if isinstance(op, dict):
                found.append({"method": method, "path": path, **op})
    return found


@pytest.fixture(scope="module", params=sorted(CONFIG.implementations))
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    name = request.param
    work = tmp_path_factory.mktemp(name)
    impl = CONFIG.implementations[name]
    with servers.started(impl, CONFIG.server, db_path=work / "docs.db", log_dir=work) as running:
        yield name, running.base_url


def test_docs_render_the_contract_offline(server: tuple[str, str]) -> None:
    name, base_url = server
    dumped = browse(base_url + "/docs", "--dump-dom")
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    text = html.unescape(re.sub(r"<[^>]+>", " ", dom))

    title = SPEC["info"]["title"]
    assert re.search(r'<h\d class="title">\s*' + re.escape(html.escape(title)), dom), f"{name}: no title {title!r}"
    rendered_paths = set(re.findall(r'data-path="([^"]*)"', dom))
    rendered_ids = set(re.findall(r'id="operations-[^"]*?-([^"-]+)"', dom))
    for op in operations():
        where = f"{name}: {op['method'].upper()} {op['path']}"
        assert html.escape(op["path"]) in rendered_paths or op["path"] in rendered_paths, f"{where}: path not shown"
        if "operationId" in op:
            assert op["operationId"] in rendered_ids, f"{where}: operation {op['operationId']} not rendered"
        if "summary" in op:
            assert op["summary"] in text, f"{where}: summary not shown"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / f"{name}.png"
    taken = browse(base_url + "/docs", f"--screenshot={shot}")
    assert taken.returncode == 0 and shot.stat().st_size > 20_000, taken.stderr[-2000:]


def test_the_spec_has_operations_to_look_for() -> None:
    assert len(operations()) >= 2 and SPEC["info"]["title"]
