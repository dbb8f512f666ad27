"""Every table, imported here so Alembic and the tests see the whole schema."""

from shared.models.communities import Community
from shared.models.community_ops import (
    Event,
    EventAttendance,
    EventRegistration,
    Feedback,
    FeedbackVote,
    ModerationAction,
    ModerationReport,
)
from shared.models.jobs import Job
from shared.models.members import Member, MemberIdentity, Membership
from shared.models.reports import ReportRun
from shared.models.rewards import (
    Activity,
    ActivityKind,
    ActivityPending,
    Advocate,
    AdvocateAccessLink,
    IdempotencyRecord,
    Incentive,
    IncentiveVersion,
    LedgerEntry,
    Redemption,
    Referral,
    Reward,
    Tier,
)
from shared.models.staff import ApiKey, AuthToken, StaffUser

__all__ = [
    "Activity",
    "ActivityKind",
    "ActivityPending",
    "Advocate",
    "AdvocateAccessLink",
    "ApiKey",
    "AuthToken",
    "Community",
    "Event",
    "EventAttendance",
    "EventRegistration",
    "Feedback",
    "FeedbackVote",
    "IdempotencyRecord",
    "Incentive",
    "IncentiveVersion",
    "Job",
    "LedgerEntry",
    "Member",
    "MemberIdentity",
    "Membership",
    "ModerationAction",
    "ModerationReport",
    "Redemption",
    "Referral",
    "ReportRun",
    "Reward",
    "StaffUser",
    "Tier",
]
