from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.base import (
    UTCDateTime,
    created_at_field,
    json_list_field,
    timestamp_field,
    updated_at_field,
    utcnow,
)


def email_key_of(email: str) -> str:
    """An address's case-insensitive identity: what `Member.email_key` holds and is unique on."""
    return email.strip().lower()


class Member(SQLModel, table=True):
    __tablename__ = "member"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200, index=True)
    email: str | None = Field(default=None, max_length=320)
    # Lower-cased email: the unique key that makes email case-insensitive. NULL once erased.
    email_key: str | None = Field(default=None, max_length=320, unique=True)
    handle: str | None = Field(default=None, max_length=100)
    country: str | None = Field(default=None, max_length=2, index=True)
    timezone: str | None = Field(default=None, max_length=64)
    interests: list[str] = json_list_field()
    status: str = Field(default="active", max_length=20, index=True)
    # Set while suspended: the worker returns the member to active once it has passed.
    suspended_until: datetime | None = timestamp_field()
    # Test accounts are kept out of metrics (DESIGN.md section 4).
    is_test: bool = Field(default=False)
    referred_by_code: str | None = Field(default=None, max_length=32)
    erased_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class MemberIdentity(SQLModel, table=True):
    """An account of the member elsewhere (forum, GitHub, Slack): how integrations find them."""

    __tablename__ = "member_identity"
    __table_args__ = (UniqueConstraint("provider", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True, ondelete="CASCADE")
    provider: str = Field(max_length=50)
    external_id: str = Field(max_length=200)


class Membership(SQLModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("member_id", "community_id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    community_id: int = Field(foreign_key="community.id", index=True)
    role: str = Field(default="member", max_length=20)
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    created_at: datetime = created_at_field()
