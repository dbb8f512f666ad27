from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.api.members.schemas import UtcDatetime
from services.api.pagination import Page
from shared.models.base import utcnow
from shared.models.enums import MemberStatus
from shared.schemas.types import RowId


class ReportReason(StrEnum):
    harassment = "harassment"
    spam = "spam"
    hate = "hate"
    off_topic = "off_topic"
    impersonation = "impersonation"
    other = "other"


class ReportStatus(StrEnum):
    open = "open"
    resolved = "resolved"


class Resolution(StrEnum):
    dismiss = "dismiss"  # nothing to act on; the member's status stays
    warn = "warn"
    suspend = "suspend"  # until a date; the worker makes the member active again then
    ban = "ban"  # also cancels their pending redemptions, with refunds


class ModerationActionKind(StrEnum):
    """What a member's history records: resolutions, and what happened without a report."""

    dismiss = "dismiss"
    warn = "warn"
    suspend = "suspend"
    ban = "ban"
    reinstate = "reinstate"
    suspension_ended = "suspension_ended"


class ReportCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"subject_member_id": 12, "reporter_member_id": 7, "community_id": 2,
         "reason": "harassment", "details": "Insulting replies to newcomers in #help."}]})

    subject_member_id: RowId = Field(ge=1, description="The member the report is about.")
    reporter_member_id: RowId | None = Field(default=None, ge=1,
                                           description="Who reported; null for staff or "
                                                       "anonymous reports.")
    community_id: RowId | None = Field(default=None, ge=1, description="Where it happened.")
    reason: ReportReason
    details: str | None = Field(default=None, min_length=1, max_length=5000)

    @field_validator("reporter_member_id")
    @classmethod
    def _not_oneself(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and value == info.data.get("subject_member_id"):
            raise ValueError("a member cannot report themselves")
        return value


class ResolutionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action": "suspend", "note": "Second warning ignored.",
         "until": "2026-12-31T00:00:00+00:00"}]})

    action: Resolution
    note: str = Field(min_length=1, max_length=2000,
                      description="Why: kept in the member's history.")
    until: UtcDatetime | None = Field(default=None, validate_default=True,
                                      description="When a suspension ends: required for "
                                                  "`suspend`, in the future; refused otherwise.")

    @field_validator("until")
    @classmethod
    def _only_suspensions_end(cls, value: datetime | None, info: ValidationInfo):
        action = info.data.get("action")
        if action == Resolution.suspend and (value is None or value <= utcnow()):
            raise ValueError("a suspension needs an end in the future")
        if action not in (None, Resolution.suspend) and value is not None:
            raise ValueError(f"only a suspension has an end, not {action}")
        return value


class Reinstatement(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"note": "Appeal accepted."}]})

    note: str = Field(min_length=1, max_length=2000)


class ReportRead(BaseModel):
    id: int
    subject_member_id: RowId
    subject_name: str
    subject_status: MemberStatus
    reporter_member_id: RowId | None
    reporter_name: str | None
    community_id: RowId | None
    community_name: str | None
    reason: ReportReason
    details: str | None
    status: ReportStatus
    action: Resolution | None
    resolution_note: str | None
    resolved_by_id: RowId | None
    resolved_at: datetime | None
    created_at: datetime
    reports_about_subject: int = Field(description="All reports about the same member.")
    open_reports_about_subject: int = Field(description="Those still open, this one included "
                                                        "if it is.")


ReportPage = Page[ReportRead]


class SubjectRead(BaseModel):
    """A member with open reports: repeated reports about one person show up together."""

    member_id: RowId
    name: str
    status: MemberStatus
    suspended_until: datetime | None
    open_reports: int
    reports: int
    last_reported_at: datetime


SubjectPage = Page[SubjectRead]


class ModerationActionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    member_id: RowId
    report_id: RowId | None
    action: ModerationActionKind
    note: str | None
    until: datetime | None
    previous_status: MemberStatus
    new_status: MemberStatus
    staff_user_id: RowId | None
    created_at: datetime


class MemberHistory(BaseModel):
    """The member's standing now and every moderation action taken, newest first."""

    member_id: RowId
    name: str
    status: MemberStatus
    suspended_until: datetime | None
    items: list[ModerationActionRead]
    next_cursor: str | None = None
