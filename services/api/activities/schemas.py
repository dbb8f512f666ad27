import json
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from services.api.members.schemas import UtcDatetime
from services.api.pagination import Page
from shared.models.base import utcnow
from shared.rules.terms import ActivityKindKey, ActivityOutcome
from shared.schemas.types import RowId

MAX_BULK_ITEMS = 5_000
MAX_PROPERTIES_BYTES = 8_192
# Clocks of integrations drift and time zones get mixed up; a day ahead is the most we believe.
MAX_FUTURE = timedelta(days=1)

_EXAMPLE = {
    "member_id": 7, "community_id": 2, "kind": "talk_given",
    "occurred_at": "2026-11-20T18:30:00+01:00", "source": "meetup",
    "external_id": "evt-991-talk-3", "properties": {"title": "On-device ML"},
}


def _not_in_the_future(value: datetime) -> datetime:
    if value > utcnow() + MAX_FUTURE:
        raise ValueError("lies more than a day in the future")
    return value


def _bounded(properties: dict[str, Any]) -> dict[str, Any]:
    if properties and len(json.dumps(properties, separators=(",", ":"))) > MAX_PROPERTIES_BYTES:
        raise ValueError(f"must be at most {MAX_PROPERTIES_BYTES} bytes as JSON")
    return properties


class ActivityCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    member_id: RowId = Field(ge=1)
    community_id: RowId | None = Field(default=None, ge=1, description="Its time zone sets the "
                                     "day, week and month that caps count in; UTC without one.")
    kind: ActivityKindKey = Field(description="One of `GET /v1/activity-kinds`.")
    occurred_at: Annotated[UtcDatetime, AfterValidator(_not_in_the_future)] = Field(
        description="With a UTC offset; at most a day in the future.")
    source: str = Field(min_length=1, max_length=50,
                        description="The system that reports it, e.g. `meetup` or `forum`.")
    external_id: str = Field(min_length=1, max_length=200, description="The activity's id in "
                             "`source`: a second report of the same pair is a replay.")
    properties: Annotated[dict[str, Any], AfterValidator(_bounded)] = Field(
        default_factory=dict, description=f"Free-form details, at most {MAX_PROPERTIES_BYTES} "
                                          "bytes as JSON.")


class ActivityState(StrEnum):
    pending = "pending"  # the worker has not decided on its points yet
    processed = "processed"


class ActivityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    member_id: RowId
    community_id: RowId | None
    kind: str
    occurred_at: datetime
    source: str
    external_id: str
    properties: dict[str, Any]
    local_day: date = Field(description="The day in the community's time zone (UTC without "
                                        "a community).")
    local_week: date = Field(description="The Monday of its ISO week, locally.")
    local_month: date = Field(description="The first of its month, locally.")
    received_at: datetime
    processed_at: datetime | None
    outcome: ActivityOutcome | None = Field(description="What the worker decided: why it was "
                                                        "awarded points or not. Null while "
                                                        "pending.")


ActivityPage = Page[ActivityRead]


class BulkActivities(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"items": [_EXAMPLE, {**_EXAMPLE, "external_id": "evt-991-talk-4", "member_id": 8}]}]})

    # Items are checked one by one in the service, so a bad item rejects only itself.
    items: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_BULK_ITEMS,
        description=f"1 to {MAX_BULK_ITEMS} activities, each as `POST /v1/activities` takes it.")


class BulkItemStatus(StrEnum):
    accepted = "accepted"  # stored now
    duplicate = "duplicate"  # stored before (or earlier in this request): a replay
    rejected = "rejected"  # invalid; see `errors`


class BulkItemError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class BulkItemResult(BaseModel):
    index: int
    status: BulkItemStatus
    id: int | None = Field(description="The stored activity; null when rejected.")
    errors: list[BulkItemError] = Field(default_factory=list)


class BulkResult(BaseModel):
    accepted: int
    duplicates: int
    rejected: int
    items: list[BulkItemResult] = Field(description="One per item sent, in the same order.")

