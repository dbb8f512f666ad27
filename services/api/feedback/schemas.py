from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from services.api.pagination import Page
from shared.schemas.types import RowId

_EXAMPLE = {"kind": "idea", "title": "Offer a mentoring track", "member_id": 7,
            "community_id": 2, "body": "Pair newcomers with a mentor for their first talk."}
_EVENT_EXAMPLE = {"kind": "event", "rating": 5, "member_id": 7, "event_id": 31,
                  "body": "Great talks, the room was too small."}


class FeedbackKind(StrEnum):
    idea = "idea"
    issue = "issue"
    praise = "praise"
    complaint = "complaint"
    event = "event"  # rates an event: needs `event_id` and a `rating`


class FeedbackStatus(StrEnum):
    new = "new"
    under_review = "under_review"
    planned = "planned"
    done = "done"
    declined = "declined"


# The loop that closes: forward one step at a time, or declined from any open step.
TRANSITIONS: dict[FeedbackStatus, frozenset[FeedbackStatus]] = {
    FeedbackStatus.new: frozenset({FeedbackStatus.under_review, FeedbackStatus.declined}),
    FeedbackStatus.under_review: frozenset({FeedbackStatus.planned, FeedbackStatus.declined}),
    FeedbackStatus.planned: frozenset({FeedbackStatus.done, FeedbackStatus.declined}),
    FeedbackStatus.done: frozenset(),
    FeedbackStatus.declined: frozenset(),
}


class FeedbackSort(StrEnum):
    created_at = "created_at"  # newest first
    votes = "votes"  # most votes first


def _is_event(info: ValidationInfo) -> bool | None:
    """Whether the body's kind is `event`; None when the kind itself is invalid."""
    kind = info.data.get("kind")
    return None if kind is None else kind == FeedbackKind.event


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [_EXAMPLE, _EVENT_EXAMPLE]})

    kind: FeedbackKind
    member_id: RowId = Field(ge=1, description="The author.")
    community_id: RowId | None = Field(default=None, ge=1, description="Event feedback defaults "
                                     "to the event's community.")
    event_id: RowId | None = Field(default=None, ge=1, validate_default=True,
                                 description="Required for event feedback.")
    rating: int | None = Field(default=None, ge=1, le=5, validate_default=True,
                               description="1 to 5: required for event feedback, refused for "
                                           "other kinds.")
    title: str | None = Field(default=None, min_length=1, max_length=200, validate_default=True,
                              description="Required except for event feedback.")
    body: str | None = Field(default=None, min_length=1, max_length=10_000)

    @field_validator("event_id")
    @classmethod
    def _event_needs_an_event(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and _is_event(info):
            raise ValueError("event feedback needs the event it is about")
        return value

    @field_validator("rating")
    @classmethod
    def _only_events_are_rated(cls, value: int | None, info: ValidationInfo) -> int | None:
        is_event = _is_event(info)
        if is_event and value is None:
            raise ValueError("event feedback needs a rating from 1 to 5")
        if is_event is False and value is not None:
            raise ValueError("only event feedback carries a rating")
        return value

    @field_validator("title")
    @classmethod
    def _titled(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and _is_event(info) is False:
            raise ValueError(f"{info.data['kind']} feedback needs a title")
        return value


class FeedbackUpdate(BaseModel):
    """Staff move the status along and answer. Whatever comes first also sets
    `first_response_at`."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"status": "planned", "staff_response": "Good idea: we start in January."}]})

    status: FeedbackStatus | None = Field(
        default=None, description="new → under_review → planned → done; declined from any of "
                                  "the first three. Any other move is refused (409).")
    staff_response: str | None = Field(default=None, min_length=1, max_length=5000)

    @model_validator(mode="after")
    def _something(self) -> "FeedbackUpdate":
        if self.status is None and self.staff_response is None:
            raise ValueError("send a status, a staff_response or both")
        return self


class FeedbackRead(BaseModel):
    id: int
    kind: FeedbackKind
    title: str | None
    body: str | None
    rating: int | None
    member_id: RowId
    member_name: str
    community_id: RowId | None
    event_id: RowId | None
    status: FeedbackStatus
    vote_count: int
    staff_response: str | None
    responded_by_id: RowId | None = Field(description="The staff user who answered last.")
    responded_at: datetime | None
    first_response_at: datetime | None = Field(
        description="The first staff answer or status change: how fast feedback is heard.")
    created_at: datetime
    updated_at: datetime


FeedbackPage = Page[FeedbackRead]


class VoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"member_id": 7}]})

    member_id: RowId = Field(ge=1)


class VoteResult(BaseModel):
    feedback_id: RowId
    member_id: RowId
    voted: bool = Field(description="Whether the member's vote is on the idea now.")
    vote_count: int
