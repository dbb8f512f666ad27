"""Who may do what. Staff roles and API-key scopes speak the same permission names, so an
endpoint states one requirement and both kinds of caller are checked against it."""

from enum import StrEnum

from shared.models.enums import StaffRole


class Permission(StrEnum):
    communities_read = "communities:read"
    communities_write = "communities:write"
    members_read = "members:read"
    members_write = "members:write"
    # Erasing personal data is irreversible, so it is an admin-only act.
    members_erase = "members:erase"
    jobs_read = "jobs:read"
    advocates_read = "advocates:read"
    # Enrol, pause, remove, adjust points, issue access links.
    advocates_write = "advocates:write"
    activities_read = "activities:read"
    activities_write = "activities:write"
    incentives_read = "incentives:read"
    incentives_write = "incentives:write"
    # Rescoring past activities changes history, so it is an admin-only act.
    incentives_rescore = "incentives:rescore"
    # The catalogue: tiers and rewards.
    rewards_read = "rewards:read"
    rewards_write = "rewards:write"
    redemptions_read = "redemptions:read"
    # Approve, reject, fulfil and cancel redemptions.
    redemptions_write = "redemptions:write"
    # Events, registrations and check-ins.
    events_read = "events:read"
    events_write = "events:write"
    # Submitting feedback, voting, and staff answers and status changes.
    feedback_read = "feedback:read"
    feedback_write = "feedback:write"
    # Filing and resolving reports; warning, suspending, banning and reinstating members.
    moderation_read = "moderation:read"
    moderation_write = "moderation:write"
    # Metrics reports, their stored history and CSV exports; building one on demand is a write.
    reports_read = "reports:read"
    reports_write = "reports:write"
    staff_admin = "staff:admin"
    api_keys_admin = "api_keys:admin"


READ_ONLY = frozenset(p for p in Permission if p.endswith(":read"))

ADMIN_ONLY = frozenset({
    Permission.members_erase,
    Permission.incentives_rescore,
    Permission.staff_admin,
    Permission.api_keys_admin,
})

# Moderators act on members' standing; managers run the program but leave that to them.
MODERATOR_ONLY = frozenset({Permission.moderation_write})

ROLE_PERMISSIONS: dict[StaffRole, frozenset[Permission]] = {
    StaffRole.admin: frozenset(Permission),
    StaffRole.manager: frozenset(Permission) - ADMIN_ONLY - MODERATOR_ONLY,
    StaffRole.moderator: READ_ONLY | MODERATOR_ONLY | {Permission.feedback_write},
    StaffRole.viewer: READ_ONLY,
}

# What an API key may be granted: never the admin-only acts.
GRANTABLE_SCOPES = frozenset(Permission) - ADMIN_ONLY
