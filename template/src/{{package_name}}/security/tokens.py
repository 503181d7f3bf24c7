"""Random tokens and how they are stored.

Session credentials (bearer tokens, session cookies, refresh tokens) have the form
`<session id>.<secret>`: the id (128 bits) finds the session record with one key
lookup on any database, and only the SHA-256 of the 256-bit secret is stored, so a
copy of the database cannot be replayed. One-time tokens (e-mail verification)
are a bare 256-bit secret stored and looked up by its SHA-256.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

SESSION_ID_BYTES = 16
SECRET_BYTES = 32
_SEPARATOR = "."


def new_secret() -> str:
    """A 256-bit URL-safe random string from the OS CSPRNG."""
    return secrets.token_urlsafe(SECRET_BYTES)


def new_session_id() -> str:
    """A 128-bit URL-safe random session id."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)


def hash_secret(secret: str) -> str:
    """The stored form of a high-entropy secret (a plain hash suffices at 256 bits)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, secret_hash: str) -> bool:
    """Constant-time comparison of a presented secret with a stored hash."""
    return hmac.compare_digest(hash_secret(secret), secret_hash)


@dataclass(frozen=True, slots=True)
class SessionCredential:
    """A session id and the secret that proves possession of the session."""

    session_id: str
    secret: str = field(repr=False)

    @classmethod
    def issue(cls) -> "SessionCredential":
        """A fresh credential for a new session."""
        return cls(new_session_id(), new_secret())

    @classmethod
    def parse(cls, token: str) -> "SessionCredential | None":
        """Split a presented token; `None` when it cannot be one of ours."""
        session_id, separator, secret = token.partition(_SEPARATOR)
        if not separator or not session_id or not secret or len(token) > 128:
            return None
        return cls(session_id, secret)

    @property
    def token(self) -> str:
        """The string handed to the client."""
        return f"{self.session_id}{_SEPARATOR}{self.secret}"
