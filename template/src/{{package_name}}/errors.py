"""The exceptions that services raise, mapped to HTTP in one place (`api/errors.py`).

ServiceError
├── InvalidCredentials      unknown user, wrong password or inactive user (one answer)
├── EmailNotVerified        correct password, address not yet verified
├── NotAuthenticated        missing, malformed, expired or revoked credential
├── InvalidOneTimeToken     verification token unknown, expired or already used
├── PasswordRejected        the new password breaks the policy (carries a reason)
└── CsrfRejected            unsafe cookie-authenticated request without CSRF proof
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


class PasswordRejected(ServiceError):
    """A new password does not meet the policy."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class CsrfRejected(ServiceError):
    """An unsafe request lacks valid proof that it came from our own client."""
