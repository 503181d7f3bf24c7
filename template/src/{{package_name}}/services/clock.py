"""The one source of time for the services, injectable so tests can move it."""

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware, in UTC (server time only)."""
    return datetime.now(UTC)
