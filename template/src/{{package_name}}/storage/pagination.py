"""Page cursors for `UserStore.list_page`, shared by the adapters.

A cursor names the last user of a page, `(created_at, id)`, and the next page starts
after it. It travels as the urlsafe base64 (unpadded) of a small JSON object, so to
callers it is an opaque string. It is neither secret nor signed: a forged one can
only choose where a listing starts, and its holder may read the whole list anyway.

Decoding accepts exactly what encoding writes and raises `ValueError` for anything
else, so a damaged cursor is a client error and never reaches a query as a value the
adapter did not produce.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

# Far above the ~110 characters a real cursor takes; a longer one is refused unread.
_MAX_CURSOR_LENGTH = 256
# User ids are UUIDs; this bounds any id to the width of the SQL column, in plain ASCII.
_USER_ID = re.compile(r"[!-~]{1,36}")


@dataclass(frozen=True, slots=True)
class UserPosition:
    """Where a listing of users in `(created_at, id)` order stopped."""

    created_at: datetime
    user_id: str


def check_limit(limit: int) -> None:
    """Refuse a page size below one (which no query could honour)."""
    if limit < 1:
        raise ValueError("a page holds at least one user")


def _canonical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def encode_cursor(position: UserPosition) -> str:
    """The cursor of the page that starts after `position`."""
    document = {"created_at": _canonical_time(position.created_at), "id": position.user_id}
    text = json.dumps(document, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> UserPosition:
    """The position a cursor names; `ValueError` unless `encode_cursor` wrote it."""
    if len(cursor) > _MAX_CURSOR_LENGTH:
        raise ValueError("malformed cursor")
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        document = json.loads(raw)
    except (binascii.Error, UnicodeError, json.JSONDecodeError):
        raise ValueError("malformed cursor") from None
    if not isinstance(document, dict) or sorted(document) != ["created_at", "id"]:
        raise ValueError("malformed cursor")
    created_at, user_id = document["created_at"], document["id"]
    if not isinstance(created_at, str) or not isinstance(user_id, str):
        raise ValueError("malformed cursor")
    if not _USER_ID.fullmatch(user_id):
        raise ValueError("malformed cursor")
    try:
        moment = datetime.fromisoformat(created_at)
    except ValueError:
        raise ValueError("malformed cursor") from None
    if moment.tzinfo is None:
        raise ValueError("malformed cursor")
    position = UserPosition(created_at=moment.astimezone(UTC), user_id=user_id)
    # Only the one spelling `encode_cursor` produces: no re-padded, re-ordered or re-spaced forms.
    if encode_cursor(position) != cursor:
        raise ValueError("malformed cursor")
    return position
