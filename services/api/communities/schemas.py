from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from services.api.pagination import Page
from shared.models.enums import CommunityKind, CommunityStatus
from shared.schemas.types import CountryCode, Slug, Tag, TimeZoneName, Url

_EXAMPLE = {
    "name": "PyData Berlin", "slug": "pydata-berlin", "kind": "offline", "city": "Berlin",
    "country": "DE", "timezone": "Europe/Berlin", "description": "Monthly meetups on data.",
    "tags": ["python", "data"], "code_of_conduct_url": "https://pydata.org/code-of-conduct/",
}


class CommunityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    name: str = Field(min_length=1, max_length=200)
    slug: Slug
    kind: CommunityKind
    city: str | None = Field(default=None, max_length=100)
    country: CountryCode | None = None
    timezone: TimeZoneName = "UTC"
    description: str | None = Field(default=None, max_length=5000)
    tags: list[Tag] = Field(default_factory=list, max_length=30)
    code_of_conduct_url: Url | None = None
    status: CommunityStatus = CommunityStatus.active


class CommunityUpdate(BaseModel):
    """Every field optional: only the fields sent change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"city": "Potsdam"}]})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    slug: Slug | None = None
    kind: CommunityKind | None = None
    city: str | None = Field(default=None, max_length=100)
    country: CountryCode | None = None
    timezone: TimeZoneName | None = None
    description: str | None = Field(default=None, max_length=5000)
    tags: list[Tag] | None = Field(default=None, max_length=30)
    code_of_conduct_url: Url | None = None
    status: CommunityStatus | None = None


class CommunityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str
    kind: CommunityKind
    city: str | None
    country: str | None
    timezone: str
    description: str | None
    tags: list[str]
    code_of_conduct_url: str | None
    status: CommunityStatus
    created_at: datetime
    updated_at: datetime


CommunityPage = Page[CommunityRead]
