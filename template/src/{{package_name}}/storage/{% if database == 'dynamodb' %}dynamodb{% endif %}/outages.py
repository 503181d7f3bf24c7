"""Which errors of botocore mean "DynamoDB is out or throttling", not "a bug".

They answer 503 with `Retry-After` (see `errors.StorageUnavailable`) instead of 500.
"""

from botocore.exceptions import (
    ClientError,
    ConnectionError,  # noqa: A004 - botocore's, the base of endpoint and connect errors
    HTTPClientError,
)

# Error codes of a DynamoDB that is throttling, failing, or has no table (yet): the
# table is named by the configuration, and `migrate` creates it.
_OUTAGE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "InternalServerError",
        "ServiceUnavailable",
        "ResourceNotFoundException",
    }
)


# Every exception `is_outage` may call an outage is one of these: the application
# registers its outage handler for them (`api/errors.py`), and asks `is_outage`.
OUTAGE_CANDIDATES: tuple[type[Exception], ...] = (
    ConnectionError,
    HTTPClientError,
    TimeoutError,
    ClientError,
)


def is_outage(exc: BaseException) -> bool:
    """The endpoint is unreachable or timing out, or DynamoDB refuses for capacity."""
    if isinstance(exc, ConnectionError | HTTPClientError | TimeoutError):
        # EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError.
        return True
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return error.get("Code") in _OUTAGE_CODES or status >= 500
    return False
