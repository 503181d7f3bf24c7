"""Structured logging: one JSON object per line, each with the request id and client IP.

Log calls pass context as `extra={...}` (user and session ids, never secrets);
this formatter writes those fields next to the message. Security events go through
`audit()`, on the `audit` logger, with an `event` name and an `outcome`.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)

# Record attributes that are not context: logging's own, and uvicorn's coloured copy.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON, with extra fields and the current request id."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
            "ip": client_ip_var.get(),
        }
        entry.update(
            (key, value) for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class PathOnlyAccessFilter(logging.Filter):
    """Cuts the query string out of uvicorn's own access log records.

    `serve` turns that log off, but `uvicorn {package}.main:app` run by hand keeps it,
    and it logs the path with its query string, where mailed links carry tokens.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's path argument; never drop the record."""
        if isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            record.args = (client, method, str(path).partition("?")[0], version, status)
        return True


def configure_logging(level: str) -> None:
    """Send every log record to standard error as JSON (idempotent); no query strings."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    uvicorn_access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, PathOnlyAccessFilter) for existing in uvicorn_access.filters):
        uvicorn_access.addFilter(PathOnlyAccessFilter())


audit_logger = logging.getLogger("audit")


def audit(event: str, outcome: str, **context: object) -> None:
    """Log one security event (`login.failed`, `session.revoked`, ...).

    `context` holds identifiers only (user id, session id, ...), never a password,
    token, cookie, code or e-mail address.
    """
    # "unchecked": a protection was skipped because its service failed (e.g. breach lookup).
    warning = {"denied", "blocked", "reuse", "unchecked"}
    level = logging.WARNING if outcome in warning else logging.INFO
    # Stamped now, so the record keeps them even if it is formatted outside the request.
    request = {"request_id": request_id_var.get(), "ip": client_ip_var.get()}
    audit_logger.log(level, event, extra={"event": event, "outcome": outcome, **request, **context})
