"""A service's HTTP API: FastAPI routers in front, FastStream (broker lifecycle, probes) behind.

FastAPI is the outer ASGI app. Its lifespan is FastStream's (`start_lifespan_context`: start-up hooks,
broker, background loops; the drain on shutdown), and the probe paths are routes handing the request to
the FastStream app as it is, so /livez, /readyz and /health answer exactly as before and need no token.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Route

from shared.runtime.api.limits import RequestLimits
from shared.runtime.metrics_http import metrics_endpoint
from shared.settings import Settings

PROBES = ("/livez", "/readyz", "/health")
METRICS = "/metrics"  # Prometheus text format, no token (like the probes): docs/operations.md, "Metrics"


def _describe(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def api_app(title: str, routers: Sequence[APIRouter], *, description: str = "", version: str = "1") -> FastAPI:
    """The FastAPI app of the routers alone, with the `{"error": ...}` answers (also what the OpenAPI export reads)."""
    # /openapi.json is served without a token, like the probes: it is the public contract (also in docs/openapi/).
    # No /docs or /redoc: those pages load scripts from elsewhere, which the pages' security headers forbid.
    api = FastAPI(title=title, description=description, version=version, docs_url=None, redoc_url=None,
                  openapi_url="/openapi.json")
    for router in routers:
        api.include_router(router)
    log = structlog.get_logger().bind(component="http")

    @api.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, exc.status_code, headers=exc.headers)

    @api.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"error": _describe(exc)}, 422)

    @api.exception_handler(Exception)
    async def failed(request: Request, exc: Exception) -> JSONResponse:  # one bad request must not take us down
        log.error("http.handler_failed", path=request.url.path, error=repr(exc)[:300])
        return JSONResponse({"error": "internal error"}, 500)

    return api


def mount_api(streams: Any, routers: Sequence[APIRouter], settings: Settings, *, title: str = "") -> Any:
    """The ASGI app to serve: the routers, the FastStream app's probes and lifespan, behind the request limits."""
    api = api_app(title or settings.service_name, routers)
    api.router.lifespan_context = lambda _app: streams.start_lifespan_context()
    for path in PROBES:  # an ASGI app as endpoint: Starlette hands it the request untouched
        api.router.routes.append(Route(path, streams, methods=["GET", "HEAD"], include_in_schema=False))
    api.router.routes.append(Route(METRICS, metrics_endpoint(streams), methods=["GET"], include_in_schema=False))
    limited = RequestLimits(api, settings.http_max_body_bytes, settings.limits.json_depth)
    limited.streams, limited.api = streams, api  # for tests and tools: the FastStream app and the FastAPI app
    return limited
