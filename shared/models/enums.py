"""Vocabularies, stored as plain strings: no native DB enums, so a new value needs no migration."""

from enum import StrEnum


class StaffRole(StrEnum):
    admin = "admin"
    manager = "manager"
    moderator = "moderator"
    viewer = "viewer"


class CommunityKind(StrEnum):
    online = "online"
    offline = "offline"
    hybrid = "hybrid"


class CommunityStatus(StrEnum):
    active = "active"
    dormant = "dormant"
    archived = "archived"


class MemberStatus(StrEnum):
    active = "active"
    warned = "warned"
    suspended = "suspended"
    banned = "banned"


class MembershipRole(StrEnum):
    member = "member"
    organiser = "organiser"
    mentor = "mentor"
    moderator = "moderator"


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class JobKind(StrEnum):
    member_import = "member_import"
    incentive_preview = "incentive_preview"
    incentive_rescore = "incentive_rescore"
    report_build = "report_build"
