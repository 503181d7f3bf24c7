"""Which errors of SQLAlchemy and its drivers mean "the database is out", not "a bug".

They answer 503 with `Retry-After` (see `errors.StorageUnavailable`) instead of 500.
"""

import socket

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

# SQLSTATE classes of an unavailable server: 08 connection exception, 53 insufficient
# resources (too many connections, disk full), 57 operator intervention (shutdown,
# "the database system is starting up").
_OUTAGE_SQLSTATE_CLASSES = ("08", "53", "57")

# Every exception `is_outage` may call an outage is one of these: the application
# registers its outage handler for them (`api/errors.py`), and asks `is_outage`.
OUTAGE_CANDIDATES: tuple[type[Exception], ...] = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    PoolTimeoutError,
    DBAPIError,
)


def is_outage(exc: BaseException) -> bool:
    """The database is unreachable, refusing connections, restarting or overloaded."""
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror | PoolTimeoutError):
        # Raised as they are while connecting (refused, reset, DNS, connect timeout),
        # or when every pooled connection stays busy past the pool timeout.
        return True
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        sqlstate = getattr(exc.orig, "sqlstate", None)
        return isinstance(sqlstate, str) and sqlstate.startswith(_OUTAGE_SQLSTATE_CLASSES)
    return False
