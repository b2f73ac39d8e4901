"""The app's docs pages (Swagger UI, ReDoc) with their assets served by the app itself, so they work offline.

The assets come from the pinned `fastapi-offline` package, whose Swagger UI is the one @fastify/swagger-ui ships
to the Node kit (the same major). The pages stay where the app's `docs_url` and `redoc_url` put them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

ASSETS = ("fastapi_offline", "static")

Page = Callable[[Request], Awaitable[HTMLResponse]]


def serve(app: FastAPI, title: str) -> None:
    """Replaces FastAPI's own docs pages, which load their assets from a CDN, with pages loading them from
    `<page>/assets/`; an app without an OpenAPI URL or with its pages turned off keeps none."""
    openapi_url = app.openapi_url
    if not openapi_url:
        return

    def swagger(assets: str) -> Page:
        async def page(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "").rstrip("/")
            redirect = app.swagger_ui_oauth2_redirect_url
            return get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{title} - Swagger UI",
                swagger_js_url=f"{root}{assets}/swagger-ui-bundle.js",
                swagger_css_url=f"{root}{assets}/swagger-ui.css",
                swagger_favicon_url=f"{root}{assets}/favicon.png",
                oauth2_redirect_url=root + redirect if redirect else None,
                init_oauth=app.swagger_ui_init_oauth,
                swagger_ui_parameters=app.swagger_ui_parameters,
            )

        return page

    def redoc(assets: str) -> Page:
        async def page(request: Request) -> HTMLResponse:
            root = request.scope.get("root_path", "").rstrip("/")
            return get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{title} - ReDoc",
                redoc_js_url=f"{root}{assets}/redoc.standalone.js",
                redoc_favicon_url=f"{root}{assets}/favicon.png",
                with_google_fonts=False,
            )

        return page

    pages = {url: make for url, make in ((app.docs_url, swagger), (app.redoc_url, redoc)) if url}
    routes: list[BaseRoute] = []
    for route in app.router.routes:
        if isinstance(route, Route) and route.path in pages:
            url, name = route.path, route.name
            assets = url.rstrip("/") + "/assets"
            routes.append(Route(url, pages[url](assets), methods=["GET"], include_in_schema=False, name=name))
            routes.append(Mount(assets, StaticFiles(packages=[ASSETS]), name=f"{name}-assets"))
        else:
            routes.append(route)
    app.router.routes[:] = routes
