"""The rewards engine's tables (DESIGN.md section 3): activities, incentives and their versions,
advocates, tiers, the append-only points ledger, rewards and redemptions."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from shared.models.base import (
    UTCDateTime,
    created_at_field,
    json_list_field,
    timestamp_field,
    updated_at_field,
)

# 64-bit ids for the high-volume tables; SQLite only auto-increments a plain INTEGER key.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def json_dict_field() -> Any:
    return Field(default_factory=dict, sa_type=sa.JSON, nullable=False)


class ActivityKind(SQLModel, table=True):
    __tablename__ = "activity_kind"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=50, unique=True)
    name: str = Field(max_length=100)
    description: str | None = Field(default=None, max_length=500)
    # Content kinds make a member an "active poster" in the metrics (DESIGN.md section 4).
    is_content: bool = Field(default=False)
    created_at: datetime = created_at_field()


class Tier(SQLModel, table=True):
    __tablename__ = "tier"
    __table_args__ = (CheckConstraint("min_lifetime_points >= 0", name="min_points_not_negative"),
                      CheckConstraint("multiplier > 0", name="multiplier_positive"))

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    min_lifetime_points: int = Field(unique=True)
    perks: list[str] = json_list_field()
    multiplier: Decimal = Field(default=Decimal("1.000"), sa_type=sa.Numeric(6, 3))
    created_at: datetime = created_at_field()


class Advocate(SQLModel, table=True):
    __tablename__ = "advocate"
    # The database, not the code, guarantees a balance never goes negative: every debit is a
    # conditional UPDATE that this constraint backs up under any concurrency.
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", unique=True)
    status: str = Field(default="active", max_length=20, index=True)
    balance: int = Field(default=0)
    lifetime_points: int = Field(default=0)
    tier_id: int | None = Field(default=None, foreign_key="tier.id", index=True)
    referral_code: str = Field(max_length=16, unique=True)
    enrolled_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Activity(SQLModel, table=True):
    __tablename__ = "activity"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_activity_member_kind", "member_id", "kind", "occurred_at"),
        Index("ix_activity_community_occurred", "community_id", "occurred_at"),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True))
    member_id: int = Field(foreign_key="member.id")
    community_id: int | None = Field(default=None, foreign_key="community.id")
    kind: str = Field(max_length=50, foreign_key="activity_kind.key")
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    source: str = Field(max_length=50)
    external_id: str = Field(max_length=200)
    properties: dict[str, Any] = json_dict_field()
    # Calendar buckets in the community's time zone, fixed at ingest, so caps per day/week/month
    # are plain SQL comparisons on any database (SQLite has no time-zone arithmetic).
    local_day: date = Field(sa_type=sa.Date, nullable=False)
    local_week: date = Field(sa_type=sa.Date, nullable=False)  # the Monday of its ISO week
    local_month: date = Field(sa_type=sa.Date, nullable=False)  # the 1st of its month
    received_at: datetime = created_at_field()
    # NULL while pending; the worker sets it with an outcome in the same transaction as the
    # ledger entries, so "processed" and "paid" can never disagree.
    processed_at: datetime | None = timestamp_field()
    outcome: str | None = Field(default=None, max_length=40)


# The queue is split by member into this many shards (`member_id % QUEUE_SHARDS`); a lane of the
# worker works a fixed set of them. Fixed, so that any number of lanes up to it splits the same
# index.
QUEUE_SHARDS = 8


class ActivityPending(SQLModel, table=True):
    """The worker's queue: one row per activity awaiting its award decision, written with the
    activity (shared.activity_queue) and deleted by the batch that decides it, in the same
    transaction that sets `processed_at`. A queue table rather than a partial index on
    `processed_at IS NULL`: such an index makes every "processed" UPDATE of a million activities
    a non-HOT update that rewrites all of the activity table's indexes."""

    __tablename__ = "activity_pending"
    # The worker's lanes claim by member shard, in activity id order within each
    # (shared.activity_queue.Lane).
    __table_args__ = (Index("ix_activity_pending_shard", sa.text(f"(member_id % {QUEUE_SHARDS})"),
                            "activity_id"),)

    activity_id: int = Field(sa_column=sa.Column(
        BigId, sa.ForeignKey("activity.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False))
    # The activity's member, copied so that the worker's lanes can split the queue by member
    # without reading the activity (shared.activity_queue.Lane).
    member_id: int


class Incentive(SQLModel, table=True):
    __tablename__ = "incentive"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=20)  # points_rule | milestone | first_n | referral
    status: str = Field(default="draft", max_length=20, index=True)
    version: int = Field(default=1)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class IncentiveVersion(SQLModel, table=True):
    """One immutable version of an incentive's terms. Editing an active incentive closes the
    current version and opens a new one from then on; an activity is scored by the version in
    force when it was received, so history is never rescored silently."""

    __tablename__ = "incentive_version"
    __table_args__ = (UniqueConstraint("incentive_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    incentive_id: int = Field(foreign_key="incentive.id", index=True)
    version: int
    activity_kind: str = Field(max_length=50, foreign_key="activity_kind.key")
    points: int
    # Kind-specific terms: cap {max, per}, community_ids, count (milestone), n (first_n).
    terms: dict[str, Any] = json_dict_field()
    starts_at: datetime | None = timestamp_field()
    ends_at: datetime | None = timestamp_field()
    effective_from: datetime = created_at_field()
    effective_to: datetime | None = timestamp_field()
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")


class LedgerEntry(SQLModel, table=True):
    """Append-only: entries are never updated or deleted. Balance = sum of an advocate's entries."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        # A second run of any job over the same activity and incentive is a no-op.
        UniqueConstraint("activity_id", "incentive_id"),
        Index("ix_ledger_advocate_created", "advocate_id", "created_at"),
        # How many bonuses an incentive has paid (first N advocates): bonuses are few, so the
        # index stays small and costs the high-volume awards nothing.
        Index("ix_ledger_bonus_incentive", "incentive_id",
              postgresql_where=sa.text("kind = 'bonus'"), sqlite_where=sa.text("kind = 'bonus'")),
        # What a capped points rule has paid an advocate in a day, week or month: one index
        # range read per (advocate, period) instead of reading the member's activities and
        # probing the ledger for each of them.
        Index("ix_ledger_incentive_advocate_day", "incentive_id", "advocate_id", "activity_day",
              postgresql_where=sa.text("activity_day IS NOT NULL"),
              sqlite_where=sa.text("activity_day IS NOT NULL")),
    )

    id: int | None = Field(default=None, sa_column=sa.Column(BigId, primary_key=True))
    advocate_id: int = Field(foreign_key="advocate.id")
    # award | bonus | adjustment | redemption | refund | expiry | forfeit
    kind: str = Field(max_length=20)
    points: int
    reason: str = Field(max_length=500)
    activity_id: int | None = Field(default=None, sa_type=BigId, foreign_key="activity.id")
    incentive_id: int | None = Field(default=None, foreign_key="incentive.id")
    incentive_version: int | None = None
    # Awards of points rules: the local day their activity occurred on, which the rule's caps
    # count by (its day, ISO week or month). NULL on every other entry.
    activity_day: date | None = None
    redemption_id: int | None = Field(default=None, foreign_key="redemption.id")
    staff_user_id: int | None = Field(default=None, foreign_key="staff_user.id")
    idempotency_key: str = Field(max_length=200, unique=True)
    created_at: datetime = created_at_field()


class Reward(SQLModel, table=True):
    __tablename__ = "reward"
    __table_args__ = (CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
                      CheckConstraint("cost_points > 0", name="cost_positive"))

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    cost_points: int
    stock: int | None = None  # NULL: unlimited
    per_member_limit: int | None = None
    requires_approval: bool = Field(default=False)
    active: bool = Field(default=True, index=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class Redemption(SQLModel, table=True):
    __tablename__ = "redemption"

    id: int | None = Field(default=None, primary_key=True)
    advocate_id: int = Field(foreign_key="advocate.id", index=True)
    reward_id: int = Field(foreign_key="reward.id", index=True)
    # requested | approved | fulfilled | rejected | cancelled
    status: str = Field(default="requested", max_length=20, index=True)
    cost_points: int
    reason: str | None = Field(default=None, max_length=1000)
    requested_at: datetime = created_at_field()
    decided_at: datetime | None = timestamp_field()
    decided_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    fulfilled_at: datetime | None = timestamp_field()


class Referral(SQLModel, table=True):
    """Who referred whom, and what became of it: paid, or refused with the reason recorded."""

    __tablename__ = "referral"

    id: int | None = Field(default=None, primary_key=True)
    referrer_advocate_id: int = Field(foreign_key="advocate.id", index=True)
    referred_member_id: int = Field(foreign_key="member.id", unique=True)
    status: str = Field(default="pending", max_length=20)  # pending | paid | refused
    reason: str | None = Field(default=None, max_length=200)
    created_at: datetime = created_at_field()
    decided_at: datetime | None = timestamp_field()


class AdvocateAccessLink(SQLModel, table=True):
    """An advocate's magic link. Only the token's SHA-256 is stored."""

    __tablename__ = "advocate_access_link"

    id: int | None = Field(default=None, primary_key=True)
    advocate_id: int = Field(foreign_key="advocate.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = timestamp_field()
    created_by_id: int | None = Field(default=None, foreign_key="staff_user.id")
    created_at: datetime = created_at_field()


class IdempotencyRecord(SQLModel, table=True):
    """The first response to a write sent with an `Idempotency-Key`, replayed on retries."""

    __tablename__ = "idempotency_record"
    # created_at: the hourly purge deletes by age, which would otherwise scan the whole table.
    __table_args__ = (UniqueConstraint("caller", "key"),
                      Index("ix_idempotency_record_created_at", "created_at"))

    id: int | None = Field(default=None, primary_key=True)
    caller: str = Field(max_length=100)  # "staff:7" or "api_key:3": keys are per caller
    key: str = Field(max_length=200)
    method: str = Field(max_length=10)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    status_code: int
    response_body: str = Field(sa_type=sa.Text)
    created_at: datetime = created_at_field()
