"""The API documentation at ``/docs`` (Swagger UI) and ``/redoc``, served with no internet.

Swagger UI and ReDoc are vendored under ``service/static/vendor/`` (licences in
``service/static/LICENSES.md``); the Swagger UI start-up is a script file of ours, not an inline
script, so the pages work under a strict Content-Security-Policy. The bearer scheme that gives
``/docs`` its Authorize button is declared where keys are read (``service.deps.get_user``).
"""

from __future__ import annotations

import html

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

_SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · API</title>
<link rel="stylesheet" href="{root}/static/vendor/swagger-ui/swagger-ui.css">
<link rel="icon" href="data:,">
</head><body>
<div id="swagger-ui" data-openapi="{root}{openapi}"></div>
<script src="{root}/static/vendor/swagger-ui/swagger-ui-bundle.js"></script>
<script src="{root}/static/pages/docs.js"></script>
</body></html>
"""

_REDOC = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · API</title><link rel="icon" href="data:,">
</head><body>
<redoc spec-url="{root}{openapi}"></redoc>
<script src="{root}/static/vendor/redoc/redoc.standalone.js"></script>
</body></html>
"""


def install(app: FastAPI) -> None:
    """Mount ``/docs`` and ``/redoc``; FastAPI's own (``docs_url``, ``redoc_url``) load from a CDN and must be off."""

    def page(template: str, root: str) -> HTMLResponse:
        return HTMLResponse(template.format(title=html.escape(app.title), root=html.escape(root),
                                            openapi=html.escape(app.openapi_url or "/openapi.json")))

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        return page(_SWAGGER, str(request.scope.get("root_path", "")))

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return page(_REDOC, str(request.scope.get("root_path", "")))
