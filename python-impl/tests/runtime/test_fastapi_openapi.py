"""`app.openapi()` is the contract as written, and the docs pages load their assets from the app itself."""

from __future__ import annotations

import re

import httpx
import pytest
from conftest import Recorder, Tokens
from fastapi import FastAPI
from twinapi_runtime import include_contract, load_contract

from app.errors import Problems
from app.generated.routes import CONTRACT_PATH, bind

pytestmark = pytest.mark.anyio


def contract_app(**options: str | None) -> FastAPI:
    app = FastAPI(**options)  # type: ignore[arg-type]

    @app.get("/extra")
    async def extra() -> dict[str, str]:
        return {"ok": "yes"}

    include_contract(app, CONTRACT_PATH, bind(Recorder(), Tokens(), Problems()))
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def test_openapi_is_the_contract_as_served() -> None:
    app = contract_app()
    async with client(app) as http:
        served = await http.get("/openapi.json")
    assert app.openapi() == load_contract(CONTRACT_PATH).spec == served.json()
    assert "/extra" not in served.json()["paths"]  # the app's own routes are not part of the contract


@pytest.mark.parametrize(("page", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")])
async def test_docs_pages_load_only_their_own_assets(page: str, script: str) -> None:
    async with client(contract_app()) as http:
        html = (await http.get(page)).text
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""", html)
        found = [a or b for a, b in urls]
        assert found and all(u.startswith(f"{page}/assets/") or u == "/openapi.json" for u in found), found
        assert f"{page}/assets/{script}" in found
        for url in found:
            asset = await http.get(url)
            assert asset.status_code == 200, url
        bundle = await http.get(f"{page}/assets/{script}")
    assert len(bundle.content) > 500_000 and "javascript" in bundle.headers["content-type"]


async def test_swagger_ui_is_the_major_node_serves() -> None:
    async with client(contract_app()) as http:
        bundle = (await http.get("/docs/assets/swagger-ui-bundle.js")).text
    version = re.search(r'PACKAGE_VERSION:"(\d+)\.', bundle)
    assert version is not None and version[1] == "5"  # @fastify/swagger-ui 6 ships Swagger UI 5


async def test_docs_follow_the_app_s_urls_and_stay_off_when_turned_off() -> None:
    async with client(contract_app(docs_url="/api-docs", redoc_url=None)) as http:
        assert "/api-docs/assets/swagger-ui.css" in (await http.get("/api-docs")).text
        assert (await http.get("/api-docs/assets/swagger-ui.css")).status_code == 200
        assert (await http.get("/redoc")).status_code == 404
    async with client(contract_app(openapi_url=None)) as http:
        assert (await http.get("/docs")).status_code == 404
        assert (await http.get("/openapi.json")).status_code == 404
