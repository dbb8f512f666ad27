from datetime import UTC, datetime
from typing import Annotated, TypeVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    field_validator,
)

from services.api.pagination import Page
from shared.models.enums import JobStatus, MembershipRole, MemberStatus
from shared.schemas.types import CountryCode, RowId, Tag, TimeZoneName

_EXAMPLE = {
    "name": "Chi Obi", "email": "chi@example.org", "handle": "chiobi", "country": "NG",
    "timezone": "Africa/Lagos", "interests": ["python", "ml"],
    "identities": [{"provider": "github", "external_id": "chiobi"}],
}


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1, max_length=50, pattern=r"^[a-z0-9_.-]+$")
    external_id: str = Field(min_length=1, max_length=200)


class IdentityRead(IdentityIn):
    model_config = ConfigDict(from_attributes=True)


def _distinct(identities: list[IdentityIn]) -> list[IdentityIn]:
    # Caught here as bad input rather than later as a clash with the database's unique key.
    pairs = [(identity.provider, identity.external_id) for identity in identities]
    if len(set(pairs)) != len(pairs):
        raise ValueError("each identity may appear only once")
    return identities


Identities = Annotated[list[IdentityIn], Field(max_length=20), AfterValidator(_distinct)]

# Stored in UTC; converting on the way in makes a write's response match later reads.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(lambda value: value.astimezone(UTC))]

T = TypeVar("T")


def _not_null(value: T | None) -> T:
    """For partial updates: a field may be left out, but a column that cannot be empty cannot be
    sent as null either."""
    if value is None:
        raise ValueError("may be left out, but not null")
    return value


class MemberCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr = Field(max_length=320)
    handle: str | None = Field(default=None, max_length=100)
    country: CountryCode | None = None
    timezone: TimeZoneName | None = None
    interests: list[Tag] = Field(default_factory=list, max_length=50)
    identities: Identities = Field(default_factory=list)
    is_test: bool = False
    referred_by_code: str | None = Field(default=None, max_length=32)


class MemberUpdate(BaseModel):
    """Only the fields sent change. `identities`, when sent, replaces the whole list.
    Status changes come from moderation, not from here."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"handle": "chi"}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = Field(default=None, max_length=320)
    handle: str | None = Field(default=None, max_length=100)
    country: CountryCode | None = None
    timezone: TimeZoneName | None = None
    interests: list[Tag] | None = Field(default=None, max_length=50)
    identities: Identities | None = None
    is_test: bool | None = None

    _required_not_null = field_validator("name", "email", "interests", "identities", "is_test")(
        _not_null
    )


class MemberRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str | None
    handle: str | None
    country: str | None
    timezone: str | None
    interests: list[str]
    identities: list[IdentityRead]
    status: MemberStatus
    is_test: bool
    referred_by_code: str | None
    erased_at: datetime | None
    created_at: datetime
    updated_at: datetime


MemberPage = Page[MemberRead]


class MembershipCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"community_id": 2, "role": "organiser",
                                         "joined_at": "2025-03-01T18:00:00+01:00"}]},
    )

    community_id: RowId
    role: MembershipRole = MembershipRole.member
    joined_at: UtcDatetime | None = Field(default=None, description="Defaults to now.")


class MembershipUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"role": "mentor"}]})

    role: MembershipRole | None = None
    joined_at: UtcDatetime | None = None

    _required_not_null = field_validator("role", "joined_at")(_not_null)


class MembershipRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    member_id: RowId
    community_id: RowId
    community_name: str
    role: MembershipRole
    joined_at: datetime


MembershipPage = Page[MembershipRead]


class ImportAccepted(BaseModel):
    job_id: RowId
    status: JobStatus
    url: str = Field(description="Where to follow the import: `GET /v1/jobs/{job_id}`.")
