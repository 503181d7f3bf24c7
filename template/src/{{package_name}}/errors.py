"""The exceptions that services raise, mapped to HTTP in one place (`api/errors.py`).

ServiceError
├── InvalidCredentials      unknown user, wrong password or inactive user (one answer)
├── EmailNotVerified        correct password, address not yet verified
├── NotAuthenticated        missing, malformed, expired or revoked credential
├── InvalidOneTimeToken     verification token unknown, expired or already used
├── AddressUnavailable      an e-mail change found its new address taken meanwhile
├── WrongPassword           a signed-in user's password confirmation failed
├── PasswordRejected        the new password breaks the policy (carries a reason)
├── InvalidField            a field is valid alone but not under the settings (422, like pydantic)
├── Forbidden               the user lacks the role a route needs
├── TooManyRequests         rate limit or login throttle; carries the seconds to wait
├── NotFound                no such resource, or not one the caller may see
├── InvalidCursor           a pagination cursor that is not ours
├── Conflict                the request contradicts the state (e.g. demoting yourself)
├── CsrfRejected            unsafe cookie-authenticated request without CSRF proof
├── BreachCheckUnavailable  the breached-password service did not answer (503 if refused)
└── StorageUnavailable      the database is unreachable, timing out or throttling (503)
"""


class ServiceError(Exception):
    """Base of every expected failure; anything else is a bug and answers 500."""


class InvalidCredentials(ServiceError):
    """Login failed; deliberately silent about why."""


class EmailNotVerified(ServiceError):
    """The password was right but the e-mail address is not verified yet."""


class NotAuthenticated(ServiceError):
    """The request carries no usable credential."""


class InvalidOneTimeToken(ServiceError):
    """A one-time token is unknown, expired, already used or of another purpose."""


class AddressUnavailable(ServiceError):
    """The address an e-mail change moves to belongs to another account by now."""


class WrongPassword(ServiceError):
    """A signed-in user confirmed an action with the wrong password."""


class PasswordRejected(ServiceError):
    """A new password does not meet the policy; `field` names the offending input."""

    def __init__(self, code: str, message: str, field: str = "password") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class InvalidField(ServiceError):
    """A request field breaks a rule that depends on settings; `field` names it."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message


class Forbidden(ServiceError):
    """The user is authenticated but lacks the role this needs; `message` says why."""

    def __init__(self, message: str = "Not allowed.") -> None:
        super().__init__(message)
        self.message = message


class TooManyRequests(ServiceError):
    """Slow down: `retry_after` seconds until the next attempt may succeed."""

    def __init__(
        self, retry_after: int, message: str = "Too many requests. Try again later."
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.message = message


class NotFound(ServiceError):
    """No such resource, or none the caller may see (the two are not told apart)."""


class InvalidCursor(ServiceError):
    """A pagination cursor that this service did not issue."""


class Conflict(ServiceError):
    """The request contradicts the current state."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CsrfRejected(ServiceError):
    """An unsafe request lacks valid proof that it came from our own client."""


class BreachCheckUnavailable(ServiceError):
    """The breached-password range could not be read; `reason` is for the log only.

    Under `BREACHED_PASSWORD_ON_ERROR=refuse` the password is not set and the client
    gets 503; under `accept` the service logs it and goes on without the check.
    """

    def __init__(self, reason: str, retry_after: int = 30) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class StorageUnavailable(ServiceError):
    """The database cannot answer now; `retry_after` seconds is a reasonable wait.

    Each storage adapter says which of its driver's errors are outages (`is_outage`);
    the message names the exception class for the log, and is never shown to clients.
    """

    def __init__(self, message: str = "storage unavailable", retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after
