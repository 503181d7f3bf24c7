"""The framework ceiling: a bare FastAPI app answering `GET /api/v1/users/me`.

No authentication, no middleware, no database: the same JSON body as the real
service (passed in `BENCH_CEILING_BODY`), served by uvicorn with the same options
as the rendered `serve` command. What the real service reaches is compared with it.

Usage: python bench/ceiling_app.py PORT
"""

import json
import os
import sys

import uvicorn
from fastapi import FastAPI

SAMPLE_BODY = {
    "id": "0195f0a3c1d27e4f8a9b0c1d2e3f4a5b",
    "email": "bench@example.com",
    "email_verified": True,
    "roles": ["user"],
    "mfa_enabled": False,
    "display_name": None,
    "created_at": "2026-01-01T00:00:00Z",
}

body: dict[str, object] = json.loads(os.environ.get("BENCH_CEILING_BODY") or "null") or SAMPLE_BODY
app = FastAPI()


@app.get("/api/v1/users/me")
async def read_me() -> dict[str, object]:
    """The fixed body, as a route handler returns it."""
    return body


@app.get("/health")
async def health() -> dict[str, str]:
    """Readiness, for the benchmark's start-up wait."""
    return {"status": "ok"}


if __name__ == "__main__":
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        server_header=False,
        proxy_headers=False,
        log_config=None,
    )
