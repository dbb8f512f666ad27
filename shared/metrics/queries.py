"""The set-based queries every report is built from. Each one answers for many communities at
once with GROUP BY (or for the whole program without it), so a report over 500 communities costs
the same handful of queries as a report over one. The SQL runs on PostgreSQL and SQLite alike:
medians are computed in Python over bounded rows, and influence's decay (which needs math
functions SQLite may lack) is the one query that PostgreSQL answers differently."""

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, case, func, literal_column, select, union_all
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.ledger import LIFETIME_KINDS
from shared.models import (
    Activity,
    ActivityKind,
    Advocate,
    Community,
    Event,
    EventAttendance,
    Feedback,
    LedgerEntry,
    Member,
    Membership,
    StaffUser,
)
from shared.models.enums import MembershipRole, MemberStatus

# The key the whole program's rows carry; community ids start at 1, so it never collides.
PROGRAM = 0
_PROGRAM_KEY = literal_column(str(PROGRAM), sa.Integer)


@dataclass(frozen=True)
class Window:
    """A half-open UTC interval [since, until): a period of inclusive dates, made exact."""

    since: datetime
    until: datetime

    @classmethod
    def of_dates(cls, start: date, end: date) -> "Window":
        """From 00:00 UTC on `start` to 00:00 UTC on the day after `end`: an activity at
        23:59:59 on `end` counts, one at midnight after it does not."""
        return cls(datetime.combine(start, time.min, UTC),
                   datetime.combine(end + timedelta(days=1), time.min, UTC))

    def contains(self, column: Any) -> ColumnElement[bool]:
        return sa.and_(column >= self.since, column < self.until)


@dataclass(frozen=True)
class Scope:
    """Which communities a query covers, and whether it answers per community or for the whole
    program (every community, and activities tied to none, counted once per member)."""

    community_ids: tuple[int, ...] | None = None
    by_community: bool = True

    @classmethod
    def program(cls) -> "Scope":
        return cls(None, by_community=False)

    @classmethod
    def of(cls, community_id: int | None) -> "Scope":
        return cls.program() if community_id is None else cls((community_id,))

    def key(self, community: Any) -> Any:
        return community if self.by_community else _PROGRAM_KEY

    def select(self, community: Any, *columns: Any) -> Select:
        """SELECT key, *columns, filtered to the scope's communities."""
        query = select(self.key(community).label("key"), *columns)
        if self.by_community:
            query = query.where(community.is_not(None))
        if self.community_ids is not None:
            query = query.where(community.in_(self.community_ids))
        return query

    def grouped(self, community: Any, *columns: Any, group_by: Sequence[Any] = ()) -> Select:
        """`select` grouped by the key and `group_by`. The program's constant key is selected but
        never grouped by (GROUP BY 0 would mean a column number)."""
        keys = [community] if self.by_community else []
        query = self.select(community, *columns)
        return query.group_by(*keys, *group_by) if keys or group_by else query


def counted(member_id: Any) -> ColumnElement[bool]:
    """The member counts in metrics: not banned, not a test account, not staff. Staff are the
    members whose email is a staff account's (staff emails are stored lower-cased, as
    `email_key` is). The excluded set is small, so NOT IN runs as one hashed lookup."""
    is_staff = select(1).where(StaffUser.email == Member.email_key).exists()
    excluded = select(Member.id).where(sa.or_(
        Member.status == MemberStatus.banned, col(Member.is_test).is_(True), is_staff))
    return member_id.not_in(excluded)


async def content_kinds(session: AsyncSession) -> list[str]:
    """The kinds that make an active poster (post, answer, content, talk and any kind added as
    content later)."""
    rows = await session.exec(select(ActivityKind.key).where(col(ActivityKind.is_content)))
    return sorted(rows.scalars().all())


async def tune_for_reports(session: AsyncSession) -> None:
    """On PostgreSQL, for the rest of this transaction: no JIT (compiling these sub-second
    aggregates costs more than it saves) and memory enough to hash and sort one period's
    per-member rows without spilling to disk. SET LOCAL ends with the transaction."""
    if session.bind.dialect.name == "postgresql":
        await session.exec(sa.text("SET LOCAL jit = off"))
        await session.exec(sa.text("SET LOCAL work_mem = '64MB'"))


def count_of(row: sa.Row | None, name: str) -> int:
    """A count from a keyed row; a key with no row counted nothing."""
    return int(getattr(row, name) or 0) if row is not None else 0


async def _keyed(session: AsyncSession, query: Select) -> dict[int, sa.Row]:
    return {row.key: row for row in (await session.exec(query)).all()}


def _first_joined(scope: Scope, until: datetime) -> sa.Subquery:
    """(key, member_id, joined_at) of each counted member's first membership begun before
    `until`: within one community there is one membership a member; for the program, the
    earliest of them all."""
    return (scope.grouped(Membership.community_id, Membership.member_id,
                          func.min(Membership.joined_at).label("joined_at"),
                          group_by=[Membership.member_id])
            .where(Membership.joined_at < until, counted(Membership.member_id))
            .subquery())


async def membership_totals(session: AsyncSession, scope: Scope, window: Window) -> dict:
    """key -> (members joined before the window ends, of them new in the window). For the program
    a member counts once, as new when their first membership began in the window."""
    first_joined = _first_joined(scope, window.until)
    query = (select(first_joined.c.key, func.count().label("members"),
                    _how_many(first_joined.c.joined_at >= window.since).label("new_members"))
             .group_by(first_joined.c.key))
    return await _keyed(session, query)


def _per_member(scope: Scope, window: Window, *columns: Any) -> Select:
    """key, member_id, *columns: the window's activities folded per member (and key)."""
    return (scope.grouped(Activity.community_id, Activity.member_id.label("member_id"), *columns,
                          group_by=[Activity.member_id])
            .where(window.contains(Activity.occurred_at)))


def _how_many(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """How many rows meet `condition`: portable, unlike PostgreSQL's FILTER."""
    return func.sum(case((condition, 1), else_=0))


async def activity_totals(
    session: AsyncSession, scope: Scope, window: Window, *,
    counted_kinds: dict[str, Sequence[str]] | None = None,
    focus_kinds: Sequence[str] = (), focus_topics: Sequence[str] = (),
) -> dict:
    """key -> activities, active_members, focus activities, and one count per entry of
    `counted_kinds` (label -> kinds) in the window. Folded per member first: a hash aggregate
    and a plain sum are cheaper than COUNT(DISTINCT), which sorts."""
    sums = {"focus": _is_focus(focus_kinds, focus_topics)}
    sums.update({label: col(Activity.kind).in_(kinds)
                 for label, kinds in (counted_kinds or {}).items()})
    per_member = (
        _per_member(scope, window, func.count().label("activities"),
                    *[_how_many(condition).label(label) for label, condition in sums.items()])
        .subquery())
    query = (select(per_member.c.key, func.sum(per_member.c.activities).label("activities"),
                    func.count().label("active_members"),
                    *[func.sum(per_member.c[label]).label(label) for label in sums])
             .where(counted(per_member.c.member_id))
             .group_by(per_member.c.key))
    return await _keyed(session, query)


def _is_focus(kinds: Sequence[str], topics: Sequence[str]) -> ColumnElement[bool]:
    conditions = [col(Activity.kind).in_(kinds)] if kinds else []
    if topics:
        conditions.append(Activity.properties["topic"].as_string().in_(topics))
    return sa.or_(*conditions) if conditions else sa.false()


async def event_totals(session: AsyncSession, scope: Scope, window: Window) -> dict:
    """key -> events starting in the window (cancelled ones left out) and their check-ins by
    counted members."""
    checked_in = sa.and_(EventAttendance.event_id == Event.id,
                         counted(EventAttendance.member_id))
    query = (scope.grouped(Event.community_id,
                           func.count(sa.distinct(Event.id)).label("events"),
                           func.count(EventAttendance.id).label("attendance"))
             .outerjoin(EventAttendance, checked_in)
             .where(window.contains(Event.starts_at), Event.status != "cancelled"))
    return await _keyed(session, query)


async def feedback_totals(session: AsyncSession, scope: Scope, window: Window) -> dict:
    """key -> feedback submitted in the window and its mean rating."""
    query = (scope.grouped(Feedback.community_id, func.count().label("feedback_count"),
                           func.avg(Feedback.rating).label("mean_rating"))
             .where(window.contains(Feedback.created_at), counted(Feedback.member_id)))
    return await _keyed(session, query)


async def first_response_hours(
    session: AsyncSession, scope: Scope, window: Window, *, waiting_until: datetime | None = None
) -> dict[int, list[float]]:
    """key -> hours from submission to first staff response of the window's feedback. Feedback
    still unanswered is left out, or counted with the hours it has waited by `waiting_until`."""
    responded_at = Feedback.first_response_at
    query = (scope.select(Feedback.community_id, Feedback.created_at, responded_at)
             .where(window.contains(Feedback.created_at), counted(Feedback.member_id)))
    if waiting_until is None:
        query = query.where(col(responded_at).is_not(None))
    hours: dict[int, list[float]] = {}
    for key, created_at, first_response_at in (await session.exec(query)).all():
        answered = first_response_at or waiting_until
        if waiting_until is not None:
            # An answer that came after `waiting_until` was still awaited then.
            answered = min(answered, waiting_until)
        hours.setdefault(key, []).append((answered - created_at).total_seconds() / 3600)
    return hours


def median(values: Iterable[float] | None) -> float | None:
    values = list(values or ())
    return round(statistics.median(values), 2) if values else None


@dataclass
class MemberTotals:
    """One key's activity totals and its top members (rows of member_id, name, points and
    activities, best first)."""

    activities: int = 0
    active_members: int = 0
    active_posters: int = 0
    by_points: list[sa.Row] = field(default_factory=list)
    by_activity: list[sa.Row] = field(default_factory=list)


async def member_totals(
    session: AsyncSession, scope: Scope, window: Window, *, posting_kinds: Sequence[str],
    limit: int,
) -> dict[int, MemberTotals]:
    """key -> activities, active members, active posters and the `limit` members with the most
    points (ledger entries in the window) and with the most activities. One pass over the
    period's activities folds them per member; window functions then rank within each key and
    total it, so every community's figures come from this one query."""
    activity_rows = (
        _per_member(scope, window, sa.literal(0).label("points"),
                    func.count().label("activities"),
                    _how_many(col(Activity.kind).in_(posting_kinds)).label("posts")))
    # A lookup by primary key per entry: a join would have PostgreSQL hash every activity.
    community_of_entry = (select(Activity.community_id)
                          .where(col(Activity.id) == LedgerEntry.activity_id).scalar_subquery())
    ledger = (select(LedgerEntry.points, Advocate.member_id,
                     community_of_entry.label("community_id"))
              .join(Advocate, col(Advocate.id) == LedgerEntry.advocate_id)
              .where(col(LedgerEntry.kind).in_(list(LIFETIME_KINDS)),
                     window.contains(LedgerEntry.created_at))
              .subquery())
    point_rows = scope.grouped(ledger.c.community_id, ledger.c.member_id,
                               func.sum(ledger.c.points).label("points"),
                               sa.literal(0).label("activities"), sa.literal(0).label("posts"),
                               group_by=[ledger.c.member_id])
    both = union_all(activity_rows, point_rows).subquery()
    # Excluded members are dropped once per member here, not once per activity above.
    per_member = (select(both.c.key, both.c.member_id,
                         func.sum(both.c.points).label("points"),
                         func.sum(both.c.activities).label("activities"),
                         func.sum(both.c.posts).label("posts"))
                  .where(counted(both.c.member_id))
                  .group_by(both.c.key, both.c.member_id).subquery())
    member = per_member.c
    in_key = {"partition_by": member.key}
    ranked = select(
        member,
        func.row_number().over(**in_key, order_by=[member.points.desc(), member.activities.desc(),
                                                   member.member_id]).label("points_rank"),
        func.row_number().over(**in_key, order_by=[member.activities.desc(), member.points.desc(),
                                                   member.member_id]).label("activities_rank"),
        func.sum(member.activities).over(**in_key).label("key_activities"),
        func.count(case((member.activities > 0, 1))).over(**in_key).label("key_active"),
        func.count(case((member.posts > 0, 1))).over(**in_key).label("key_posters"),
    ).subquery()
    query = (select(ranked, Member.name)
             .join(Member, col(Member.id) == ranked.c.member_id)
             .where(sa.or_(ranked.c.points_rank <= limit, ranked.c.activities_rank <= limit)))
    totals: dict[int, MemberTotals] = {}
    for row in (await session.exec(query)).all():
        key = totals.setdefault(row.key, MemberTotals(
            int(row.key_activities), row.key_active, row.key_posters))
        if row.points_rank <= limit and row.points > 0:
            key.by_points.append(row)
        if row.activities_rank <= limit and row.activities > 0:
            key.by_activity.append(row)
    for key in totals.values():
        key.by_points.sort(key=lambda row: row.points_rank)
        key.by_activity.sort(key=lambda row: row.activities_rank)
    return totals


async def activity_by_member(
    session: AsyncSession, scope: Scope, window: Window
) -> dict[int, dict[int, int]]:
    """key -> {member_id: activities in the window}."""
    query = _per_member(scope, window, func.count()).where(counted(Activity.member_id))
    counts: dict[int, dict[int, int]] = {}
    for key, member_id, activities in (await session.exec(query)).all():
        counts.setdefault(key, {})[member_id] = activities
    return counts


async def community_ids(session: AsyncSession, wanted: Iterable[int] | None = None) -> list[int]:
    """The communities that exist, in id order: all of them, or those of `wanted`."""
    query = select(Community.id).order_by(Community.id)
    if wanted is not None:
        query = query.where(col(Community.id).in_(list(wanted)))
    return list((await session.exec(query)).scalars().all())


async def converted_new_members(session: AsyncSession, scope: Scope, window: Window) -> dict:
    """key -> memberships begun in the window whose member was active in that community in the
    window: new members converted to active."""
    active_there = (select(1).where(Activity.member_id == Membership.member_id,
                                    Activity.community_id == Membership.community_id,
                                    window.contains(Activity.occurred_at))
                    .exists())
    query = (scope.grouped(Membership.community_id, func.count().label("converted"))
             .where(window.contains(Membership.joined_at), counted(Membership.member_id),
                    active_there))
    return await _keyed(session, query)


async def organiser_counts(session: AsyncSession, scope: Scope, until: datetime) -> dict:
    """key -> counted members holding the organiser role in memberships begun before `until`."""
    query = (scope.grouped(Membership.community_id, func.count().label("organisers"))
             .where(Membership.role == MembershipRole.organiser, Membership.joined_at < until,
                    counted(Membership.member_id)))
    return await _keyed(session, query)


def _bucket_of(column: Any, edges: Sequence[datetime]) -> ColumnElement[int]:
    """The index i of the bucket [edges[i], edges[i+1]) holding `column` (rows outside the
    edges are filtered out by the caller)."""
    return case(*[(column < edge, index) for index, edge in enumerate(edges[1:])])


async def _per_bucket(session: AsyncSession, inner: Select) -> dict[int, sa.Row]:
    """Aggregates `inner`'s rows per bucket. The bucket is computed in a subquery and grouped on
    by name: grouping on the CASE itself repeats its parameters, which PostgreSQL then sees as
    different expressions."""
    rows = inner.subquery()
    query = (select(rows.c.bucket, func.count().label("rows"),
                    func.count(sa.distinct(rows.c.member_id)).label("members"))
             .group_by(rows.c.bucket))
    return {row.bucket: row for row in (await session.exec(query)).all()}


async def activity_buckets(session: AsyncSession, scope: Scope,
                           edges: Sequence[datetime]) -> dict[int, sa.Row]:
    """bucket -> activities (`rows`) and active members (`members`)."""
    window = Window(edges[0], edges[-1])
    inner = (scope.select(Activity.community_id,
                          _bucket_of(Activity.occurred_at, edges).label("bucket"),
                          Activity.member_id.label("member_id"))
             .where(window.contains(Activity.occurred_at), counted(Activity.member_id)))
    return await _per_bucket(session, inner)


async def new_member_buckets(session: AsyncSession, scope: Scope,
                             edges: Sequence[datetime]) -> dict[int, sa.Row]:
    """bucket -> members whose (first) membership began in it (`rows`)."""
    first = _first_joined(scope, edges[-1])
    inner = (select(_bucket_of(first.c.joined_at, edges).label("bucket"), first.c.member_id)
             .where(first.c.joined_at >= edges[0]))
    return await _per_bucket(session, inner)


async def decayed_scores(
    session: AsyncSession, scope: Scope, window: Window, *, kind_weights: dict[str, float],
    default_weight: float, as_of: date, half_life_days: float,
) -> dict[int, tuple[float, int]]:
    """member_id -> (sum of kind weight x 0.5^(age in days / half-life), activities) over the
    window, age counted from `as_of` by the activity's local day. PostgreSQL computes it in one
    aggregate; SQLite (whose math functions are a build option) sends one row per member and day
    for Python to decay."""
    weight = case(kind_weights, value=Activity.kind, else_=default_weight)
    activities = func.count().label("activities")
    if session.bind.dialect.name == "postgresql":
        age = func.greatest(sa.literal(as_of, sa.Date) - Activity.local_day, 0)
        decay = func.power(0.5, sa.cast(age, sa.Float) / half_life_days)
        query = _per_member(scope, window, func.sum(weight * decay), activities)
        rows = (await session.exec(query.where(counted(Activity.member_id)))).all()
        return {member_id: (float(score), count) for _, member_id, score, count in rows}
    query = (_per_member(scope, window, Activity.local_day, func.sum(weight), activities)
             .group_by(Activity.local_day).where(counted(Activity.member_id)))
    scores: dict[int, tuple[float, int]] = {}
    for _, member_id, day, weighed, count in (await session.exec(query)).all():
        score, total = scores.get(member_id, (0.0, 0))
        age = max(0, (as_of - day).days)
        scores[member_id] = (score + weighed * 0.5 ** (age / half_life_days), total + count)
    return scores


async def names_of(session: AsyncSession, model: type[Community] | type[Member],
                   ids: Iterable[int]) -> dict[int, str]:
    """id -> name of the communities or members of `ids`."""
    rows = await session.exec(select(model.id, model.name).where(col(model.id).in_(list(ids))))
    return dict(rows.all())
