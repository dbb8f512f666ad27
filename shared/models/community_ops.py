"""Events with registration and check-in, the feedback loop, and moderation (reports and the
actions taken on members)."""

from datetime import datetime

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.base import UTCDateTime, created_at_field, timestamp_field, updated_at_field


class Event(SQLModel, table=True):
    __tablename__ = "event"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity_positive"),
        Index("ix_event_community_starts", "community_id", "starts_at"),
        # A cancelled event always says when; a scheduled one never carries a cancellation.
        CheckConstraint("(status = 'cancelled') = (cancelled_at IS NOT NULL)",
                        name="cancelled_at_iff_cancelled"),
    )

    id: int | None = Field(default=None, primary_key=True)
    community_id: int = Field(foreign_key="community.id")
    title: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    format: str = Field(max_length=20)  # in_person | online | hybrid
    venue: str | None = Field(default=None, max_length=500)
    link: str | None = Field(default=None, max_length=2000)
    capacity: int | None = None  # NULL: no limit on registrations
    code_of_conduct_url: str | None = Field(default=None, max_length=2000)
    status: str = Field(default="scheduled", max_length=20)  # scheduled | cancelled
    cancelled_at: datetime | None = timestamp_field()
    cancel_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class EventRegistration(SQLModel, table=True):
    __tablename__ = "event_registration"
    __table_args__ = (UniqueConstraint("event_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    registered_at: datetime = created_at_field()


class EventAttendance(SQLModel, table=True):
    """One check-in per person and event: the unique key turns a second scan into a no-op."""

    __tablename__ = "event_attendance"
    __table_args__ = (UniqueConstraint("event_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    method: str = Field(max_length=20)  # single | bulk | csv
    checked_in_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    checked_in_at: datetime = created_at_field()


class Feedback(SQLModel, table=True):
    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating_range"),
        # Event feedback rates an event; no other kind carries a rating.
        CheckConstraint("(kind = 'event') = (rating IS NOT NULL AND event_id IS NOT NULL)",
                        name="rating_only_for_events"),
        Index("ix_feedback_kind_status", "kind", "status"),
        Index("ix_feedback_vote_count", "vote_count", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # idea | issue | praise | complaint | event
    title: str | None = Field(default=None, max_length=200)
    body: str | None = Field(default=None, max_length=10_000)
    rating: int | None = None
    member_id: int = Field(foreign_key="member.id", index=True)
    community_id: int | None = Field(default=None, foreign_key="community.id", index=True)
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    status: str = Field(default="new", max_length=20)
    # Kept in step with the votes in the same transaction, so lists sort by it with an index.
    vote_count: int = Field(default=0)
    staff_response: str | None = Field(default=None, max_length=5000)
    responded_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    responded_at: datetime | None = timestamp_field()
    # The first staff response or status change, whichever came first: responsiveness metrics.
    first_response_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class FeedbackVote(SQLModel, table=True):
    __tablename__ = "feedback_vote"
    __table_args__ = (UniqueConstraint("feedback_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    feedback_id: int = Field(foreign_key="feedback.id")
    member_id: int = Field(foreign_key="member.id", index=True)
    created_at: datetime = created_at_field()


class ModerationReport(SQLModel, table=True):
    __tablename__ = "moderation_report"
    __table_args__ = (Index("ix_moderation_report_subject_status", "subject_member_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_member_id: int = Field(foreign_key="member.id")
    reporter_member_id: int | None = Field(default=None, foreign_key="member.id")
    community_id: int | None = Field(default=None, foreign_key="community.id", index=True)
    # harassment | spam | hate | off_topic | impersonation | other
    reason: str = Field(max_length=20)
    details: str | None = Field(default=None, max_length=5000)
    status: str = Field(default="open", max_length=20, index=True)  # open | resolved
    action: str | None = Field(default=None, max_length=20)  # how it was resolved
    resolution_note: str | None = Field(default=None, max_length=2000)
    resolved_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    resolved_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()


class ModerationAction(SQLModel, table=True):
    """A member's moderation history, append-only: every resolution, reinstatement and the end
    of every suspension, with the status before and after."""

    __tablename__ = "moderation_action"
    __table_args__ = (Index("ix_moderation_action_member", "member_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    report_id: int | None = Field(default=None, foreign_key="moderation_report.id")
    # dismiss | warn | suspend | ban | reinstate | suspension_ended
    action: str = Field(max_length=20)
    note: str | None = Field(default=None, max_length=2000)
    until: datetime | None = Field(default=None, sa_type=UTCDateTime, nullable=True)
    previous_status: str = Field(max_length=20)
    new_status: str = Field(max_length=20)
    staff_user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = created_at_field()
