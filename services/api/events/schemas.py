from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.api.members.schemas import UtcDatetime
from services.api.pagination import Page
from shared.schemas.types import RowId, Url

MAX_BULK_CHECK_INS = 5_000
MAX_CAPACITY = 1_000_000

_EXAMPLE = {
    "community_id": 2, "title": "PyData Berlin #42: On-device ML",
    "starts_at": "2026-12-03T19:00:00+01:00", "ends_at": "2026-12-03T21:30:00+01:00",
    "format": "in_person", "venue": "Factory Berlin, Rheinsberger Str. 76", "capacity": 120,
    "code_of_conduct_url": "https://pydata.org/code-of-conduct/",
}


class EventFormat(StrEnum):
    in_person = "in_person"
    online = "online"
    hybrid = "hybrid"


class EventStatus(StrEnum):
    scheduled = "scheduled"
    cancelled = "cancelled"  # refuses registrations and check-ins from then on


class EventOrder(StrEnum):
    asc = "asc"  # soonest start first
    desc = "desc"  # latest start first: what a list of past events wants


class EventCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    community_id: RowId = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    starts_at: UtcDatetime
    ends_at: UtcDatetime = Field(description="After `starts_at`.")
    format: EventFormat
    venue: str | None = Field(default=None, min_length=1, max_length=500,
                              description="Required for in-person and hybrid events.")
    link: Url | None = Field(default=None, description="Required for online and hybrid events.")
    capacity: int | None = Field(default=None, ge=1, le=MAX_CAPACITY,
                                 description="Registrations at most; null for no limit.")
    code_of_conduct_url: Url | None = Field(
        default=None, description="Required for in-person and hybrid events of offline "
                                  "communities, unless the community has one.")


class EventUpdate(BaseModel):
    """Only the fields sent change; the event as a whole is checked again. The community does not
    change: the attendance already recorded belongs to it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"capacity": 150}]})

    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    starts_at: UtcDatetime | None = None
    ends_at: UtcDatetime | None = None
    format: EventFormat | None = None
    venue: str | None = Field(default=None, min_length=1, max_length=500)
    link: Url | None = None
    capacity: int | None = Field(default=None, ge=1, le=MAX_CAPACITY)
    code_of_conduct_url: Url | None = None

    @field_validator("title", "starts_at", "ends_at", "format")
    @classmethod
    def _not_null(cls, value):
        # Left out means "unchanged"; sent as null would empty a column that needs a value.
        if value is None:
            raise ValueError("may be left out, but not null")
        return value


class EventCancel(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "The venue closed; we meet again in May."}]})

    reason: str | None = Field(default=None, min_length=1, max_length=500,
                               description="Shown with the event; optional.")


class FeedbackSummary(BaseModel):
    count: int = Field(description="Event feedback received.")
    mean_rating: float | None = Field(description="Mean of their ratings (1-5); null if none.")


class EventRead(BaseModel):
    id: int
    community_id: RowId
    community_name: str
    title: str
    description: str | None
    starts_at: datetime
    ends_at: datetime
    format: EventFormat
    venue: str | None
    link: str | None
    capacity: int | None
    code_of_conduct_url: str | None
    effective_code_of_conduct_url: str | None = Field(
        description="The event's own code of conduct, else its community's.")
    status: EventStatus
    cancelled_at: datetime | None
    cancel_reason: str | None
    registration_count: int
    attendance_count: int
    feedback: FeedbackSummary
    created_at: datetime
    updated_at: datetime


EventPage = Page[EventRead]


class MemberRef(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"member_id": 7}]})

    member_id: RowId = Field(ge=1)


class RegistrationRead(BaseModel):
    event_id: RowId
    member_id: RowId
    member_name: str
    registered_at: datetime
    checked_in: bool


RegistrationPage = Page[RegistrationRead]


class AttendanceMethod(StrEnum):
    single = "single"
    bulk = "bulk"
    csv = "csv"


class AttendanceRead(BaseModel):
    event_id: RowId
    member_id: RowId
    member_name: str
    method: AttendanceMethod
    checked_in_by_id: RowId | None
    checked_in_at: datetime


AttendancePage = Page[AttendanceRead]


class CheckInStatus(StrEnum):
    checked_in = "checked_in"  # now
    already_checked_in = "already_checked_in"  # before: nothing changed
    rejected = "rejected"  # see `reason`


class CheckInResult(BaseModel):
    status: CheckInStatus
    attendance: AttendanceRead
    attendance_count: int = Field(description="The event's check-ins, this one included.")


class BulkCheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [{"member_ids": [7, 8, 9]}]})

    member_ids: list[RowId] = Field(min_length=1, max_length=MAX_BULK_CHECK_INS)


class BulkCheckInItem(BaseModel):
    member_id: RowId
    status: CheckInStatus
    reason: str | None = None


class BulkCheckInResult(BaseModel):
    checked_in: int
    already_checked_in: int
    rejected: int
    attendance_count: int
    items: list[BulkCheckInItem] = Field(description="One per member id sent, in the same order.")


class CsvRowStatus(StrEnum):
    created = "created"  # a new member, created and checked in
    matched = "matched"  # an existing member (by email), checked in now
    already_checked_in = "already_checked_in"  # checked in before, or earlier in the file
    rejected = "rejected"  # see `reason`


class CsvRowResult(BaseModel):
    line: int = Field(description="The row's line in the file; the header is line 1.")
    status: CsvRowStatus
    member_id: RowId | None
    email: str | None
    reason: str | None = None


class CsvCheckInResult(BaseModel):
    created: int
    matched: int
    already_checked_in: int
    rejected: int
    attendance_count: int
    rows: list[CsvRowResult]
