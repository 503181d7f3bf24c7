"""Structured logging: one JSON object per line, each with the request id and client IP.

Log calls pass context as `extra={...}` (user and session ids, never secrets);
the formatter writes those fields next to the message. Security events go through
`audit()`, on the `audit` logger, with an `event` name and an `outcome`; every
request gets one line on the `access` logger (`api/middleware/access_log.py`) with its
`method`, `path` (never the query string), `status` and `duration_ms`.
`LOG_FORMAT=text` writes the same fields as one readable line, for development.
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["json", "text"]

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
client_ip_var: ContextVar[str | None] = ContextVar("client_ip", default=None)

# Record attributes that are not context: logging's own, and uvicorn's coloured copy.
_STANDARD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
}


def _context(record: logging.LogRecord) -> dict[str, object]:
    """The request id and client IP of the current request, then the record's extras."""
    context: dict[str, object] = {"request_id": request_id_var.get(), "ip": client_ip_var.get()}
    context.update(
        (key, value) for key, value in vars(record).items() if key not in _STANDARD_ATTRIBUTES
    )
    return context


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as JSON, with extra fields and the current request id."""
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """Formats a record as one readable line (development), with the same fields:

    `09:30:00.123 INFO access: GET /health 200 method=GET ... request_id=3f2a... ip=::1`
    """

    def format(self, record: logging.LogRecord) -> str:
        """Time, level, logger and message, then `name=value` for each field that is set."""
        moment = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S.%f")[:-3]
        fields = " ".join(
            f"{key}={value}" for key, value in _context(record).items() if value is not None
        )
        line = f"{moment} {record.levelname} {record.name}: {record.getMessage()} {fields}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


# The name of the handler `configure_logging` installs, to find it again.
SERVICE_HANDLER = "service"


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


def configure_logging(level: str, log_format: LogFormat = "json") -> None:
    """Send every log record to standard error as JSON, or readable text (idempotent);
    no query strings, and no URL of the service's own outgoing requests."""
    root = logging.getLogger()
    root.setLevel(level)
    handler = next((h for h in root.handlers if h.name == SERVICE_HANDLER), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler.set_name(SERVICE_HANDLER)
        root.addHandler(handler)
    handler.setFormatter(TextFormatter() if log_format == "text" else JsonFormatter())
    # httpx logs the URL of every request at INFO. The breached-password lookup's URL
    # ends in the first five hex digits of the password's SHA-1: enough to leave one
    # candidate of a million-word guess list, and beside the request's id and address.
    logging.getLogger("httpx").setLevel(logging.WARNING)
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
