"""One `access` log line per request: method, path, status and duration."""

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_logger = logging.getLogger("access")


class AccessLogMiddleware:
    """Logs every request once, when its answer is complete (or its handling failed).

    The path only, never the query string: mailed links carry live tokens there
    (`/verify-email?token=...`). `serve` turns uvicorn's own access log off, which
    writes the query string and cannot be told not to.

    The record is made and handed to the logger's handlers directly: `Logger.info`
    would walk the call stack to find its caller's file and line on every request,
    and the access line always comes from here.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status: int | None = None

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            if access_logger.isEnabledFor(logging.INFO):
                method, path = scope["method"], scope["path"]
                fields = {
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                }
                access_logger.handle(
                    access_logger.makeRecord(
                        access_logger.name,
                        logging.INFO,
                        __file__,
                        0,
                        "%s %s %s",
                        (method, path, status),
                        None,
                        extra=fields,
                    )
                )
