"""Error answers declared in the OpenAPI schema, all with the `{"detail": "..."}` body.

FastAPI declares the 422 of request validation by itself. The other errors a route
can give come from its service (`api/errors.py`), its dependencies (credentials,
rate limits) and the middleware that checks bodies before any route runs; the
routers declare them with these helpers, so the schema lists every status a client
can receive.
"""

from typing import Any

from pydantic import BaseModel

Responses = dict[int | str, dict[str, Any]]

DESCRIPTIONS = {
    400: "The request cannot be carried out as sent",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "The request contradicts the current state",
    413: "Request body too large",
    415: "The body is not of the media type this route accepts",
    429: "Too many attempts: wait `Retry-After` seconds",
    503: (
        "The database (or, setting a password, the breached-password check) is unavailable: "
        "retry after `Retry-After` seconds"
    ),
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until the next attempt may succeed",
        "required": True,
        "schema": {"type": "integer"},
    }
}


class ErrorOut(BaseModel):
    """What went wrong, for a person to read."""

    detail: str


def error(status_code: int, description: str | None = None) -> Responses:
    """One error answer, for the `responses` of a route or a router."""
    declaration: dict[str, Any] = {
        "model": ErrorOut,
        "description": description or DESCRIPTIONS[status_code],
    }
    if status_code in {429, 503}:
        declaration["headers"] = RETRY_AFTER
    return {status_code: declaration}


def errors(*status_codes: int) -> Responses:
    """Several error answers, each with its usual description."""
    declared: Responses = {}
    for status_code in status_codes:
        declared |= error(status_code)
    return declared


# Routes with a body: an unreadable body (400), one over `MAX_BODY_BYTES` (413) or one
# of another media type (415) never reaches the route.
BODY_ERRORS = errors(400, 413, 415)
# The routers under `/auth/` declare it on the router (every body is capped alike).
AUTH_BODY_ERRORS = BODY_ERRORS
# What every way of signing in (and a JWT refresh) can answer besides 200; each
# transport adds the answers of its own checks (`api/sign_in.py`).
SIGN_IN_ERRORS = AUTH_BODY_ERRORS | errors(401, 429)
# Every route that reads the database, declared once on the application.
OUTAGE_ERRORS = errors(503)
