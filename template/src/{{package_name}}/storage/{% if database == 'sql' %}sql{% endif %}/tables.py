"""Table definitions; Alembic migrations in `migrations/versions` create them."""

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    TypeDecorator,
)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("email_verified", Boolean, nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("display_name", String(100), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # SHA-256 of the one verification link that may still verify this address (see
    # `SqlUserStore.set_verification`); NULL once verified.
    Column("verification_token_hash", String(64), nullable=True),
    # `list_page` walks users in (created_at, id) order, a page at a time.
    Index(None, "created_at", "id"),
)


def owner_column() -> Column[str]:
    """`user_id` of a row that belongs to a user and goes when the user does."""
    return Column(
        "user_id",
        String(36),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


sessions = Table(
    "sessions",
    metadata,
    Column("id", String(32), primary_key=True),
    owner_column(),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("user_agent", String(512), nullable=True),
    Column("ip", String(64), nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    # A JSON list of the secret hashes rotated away from, oldest first.
    Column("previous_secret_hashes", JSON, nullable=False),
)

one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("purpose", String(32), nullable=False),
    owner_column(),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    # E-mail change links: the address to move to and the session that asked.
    Column("new_email", String(320), nullable=True),
    Column("session_id", String(32), nullable=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("last_failure_at", UTCDateTime, nullable=False),
)

mail_quota = Table(
    "mail_quota",
    metadata,
    # A keyed hash of (kind of mail, recipient, hour): no address is stored.
    Column("key", String(64), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

personal_access_tokens = Table(
    "personal_access_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    owner_column(),
    Column("name", String(100), nullable=False),
    # SHA-256 of the secret; the token itself is never stored.
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("last_used_ip", String(64), nullable=True),
)

personal_access_token_counts = Table(
    "personal_access_token_counts",
    metadata,
    # How many tokens the user holds: the cap is one conditional upsert of this row.
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("count", Integer, nullable=False),
)
