"""The records the services read and write, independent of any database."""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    """What a user may do."""

    USER = "user"
    ADMIN = "admin"


class TokenPurpose(StrEnum):
    """What a one-time token may be used for; a token never serves another purpose."""

    VERIFY_EMAIL = "verify_email"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a purpose name, not a password


@dataclass(frozen=True, slots=True)
class User:
    """An account. `email` is stored normalised (lower case)."""

    id: str
    email: str
    password_hash: str = field(repr=False)
    created_at: datetime
    email_verified: bool = False
    is_active: bool = True
    roles: frozenset[Role] = frozenset({Role.USER})
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """A server-side session; every credential of every token style points at one."""

    id: str
    user_id: str
    secret_hash: str = field(repr=False)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    user_agent: str | None = None
    ip: str | None = None
    revoked_at: datetime | None = None
    # Hashes of secrets this session has rotated away from (jwt refresh tokens), so a
    # replayed old refresh token is recognised as theft rather than as garbage.
    previous_secret_hashes: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True, slots=True)
class OneTimeToken:
    """A single-use token, known to the store only by the SHA-256 of its secret."""

    token_hash: str = field(repr=False)
    purpose: TokenPurpose
    user_id: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LoginFailures:
    """Consecutive failed logins for one identifier (existing account or not)."""

    count: int = 0
    last_failure_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserPage:
    """One page of users, oldest first, and the cursor of the next page (if any)."""

    users: tuple[User, ...]
    next_cursor: str | None
