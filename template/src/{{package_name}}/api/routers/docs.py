"""Swagger UI at `/docs`, served from this process: no third-party CDN, no inline script.

The assets come from the `fastapi-offline` package (a pinned Swagger UI build); only
the files named in `ASSETS` are served. The page's own start-up code is a static script,
so the docs Content-Security-Policy can keep `script-src 'self'` without 'unsafe-inline'.
ReDoc is not served: one documentation UI is enough, and it needs `blob:` workers.
"""

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

DOCS_PATH = "/docs"
ASSET_DIRECTORY = Path(fastapi_offline.__file__).parent / "static"
ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}
# Deferred, so it runs once the page is parsed and after the bundle. No validator badge:
# it would call validator.swagger.io, which the docs CSP forbids anyway.
START_SCRIPT = """\
"use strict";
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  validatorUrl: null,
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout",
});
"""


def build_docs_router(*, title: str, openapi_url: str) -> APIRouter:
    """Routes for the Swagger UI page and its assets (left out of the OpenAPI schema)."""
    router = APIRouter(prefix=DOCS_PATH, include_in_schema=False)

    @router.get("")
    async def swagger_ui(request: Request) -> HTMLResponse:
        root_path = request.scope.get("root_path", "").rstrip("/")
        assets = f"{root_path}{DOCS_PATH}"
        page = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{escape(title)} - API docs</title>
<link rel="icon" type="image/png" href="{assets}/favicon.png">
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<script src="{assets}/swagger-ui-bundle.js" defer></script>
<script src="{assets}/start.js" defer></script>
</head>
<body>
<div id="swagger-ui" data-openapi-url="{escape(root_path + openapi_url)}"></div>
</body>
</html>
"""
        return HTMLResponse(page)

    @router.get("/start.js")
    async def start_script() -> Response:
        return Response(START_SCRIPT, media_type="text/javascript")

    @router.get("/{name}")
    async def asset(name: str) -> FileResponse:
        media_type = ASSETS.get(name)
        if media_type is None:
            raise HTTPException(status_code=404, detail="Not Found")
        return FileResponse(ASSET_DIRECTORY / name, media_type=media_type)

    return router
