"""The incentive rules as SQL: for one incentive version and a scope of activities, the SELECT of
the ledger entries the rule awards. The worker inserts its rows (INSERT … SELECT … ON CONFLICT DO
NOTHING) and a preview only counts them, so what a preview shows is what a run would write.

Every statement is set-based: whatever the number of activities, a rule costs one statement. The
activities in scope are first copied, with their member's and advocate's standing, into a
temporary table (BATCH, see `fill_batch`), so the big tables are read once per batch rather than
once per rule. The decisions that depend on earlier awards (caps, first N, milestones) read the
ledger, so they are right across batches, across runs and after a crash, as long as the caller
serialises the advocates involved (services/worker/rewards.py locks them).

Ordering rules, and their limits:
- caps: within a period, activities are paid in (occurred_at, id) order among those scored
  together, after the awards already in the ledger for that period. An activity that arrives late
  for a period that is already full earns nothing; it never displaces an earlier award.
- first_n: advocates are ranked by their first qualifying activity's (occurred_at, id) among those
  scored together; the places left are N minus those already paid. An activity that arrives after
  N advocates were paid cannot displace any of them, even if it occurred earlier. A backlog
  worked in lanes (split by member) is scored a lane's batch at a time: lanes take turns on a
  first_n incentive, each ranking its own advocates.
- milestone: the bonus goes with the first activity at which the member has at least `count`
  matching activities (counted by id: all of them, whoever scored them), once per advocate.
- referral: a referred member's first qualifying activity pays the referrer once per incentive;
  the refusal checks run in Python (shared.rules.referrals), on the candidates selected here."""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, exists, func, literal, select
from sqlalchemy.dialects import postgresql

from shared.models import Activity, Advocate, LedgerEntry, Member, Referral, Tier
from shared.models.base import UTCDateTime
from shared.models.rewards import BigId
from shared.rules.terms import (
    ACTIVE_ADVOCATE,
    EARNING_MEMBER_STATUSES,
    ActivityOutcome,
    CapPeriod,
    IncentiveKind,
    Rule,
)

ACTIVITY = Activity.__table__
MEMBER = Member.__table__
ADVOCATE = Advocate.__table__
TIER = Tier.__table__
LEDGER = LedgerEntry.__table__
REFERRAL = Referral.__table__

# The columns award_rows() selects, in order, for INSERT INTO ledger_entry (…) SELECT.
LEDGER_COLUMNS = ("advocate_id", "kind", "points", "reason", "activity_id", "incentive_id",
                  "incentive_version", "idempotency_key", "created_at", "activity_day")

# Rule points are multiplied by the tier's multiplier (three decimals) in integer thousandths, so
# that PostgreSQL's exact numerics and SQLite's floats floor alike (1.15 times 100 is 115 on both).
_MILLIS = 1000

# Activities decided while their member was suspended or banned stay unpaid, even on a rescore.
_REFUSED_OUTCOMES = (ActivityOutcome.member_suspended, ActivityOutcome.member_banned)


@dataclass(frozen=True)
class Scope:
    """The activities a rule is applied to.

    `live`: the worker's pass over a batch of pending activities; each is scored by the version
    in force when it was received. Otherwise a rescore or a preview: the incentive's current terms
    over processed activities that occurred in `period`, leaving out those it already awarded."""

    dialect: str
    ids: Sequence[int] | None = None  # ascending
    period: tuple[datetime, datetime] | None = None
    live: bool = False

    @classmethod
    def batch(cls, dialect: str, ids: Sequence[int] | None = None) -> "Scope":
        """The worker's pass; `ids` where BATCH is still to be filled from them."""
        return cls(dialect, ids=ids, live=True)

    @classmethod
    def past(cls, start: datetime, end: datetime, dialect: str,
             ids: Sequence[int] | None = None) -> "Scope":
        return cls(dialect, ids=ids, period=(start, end))

    def has(self, column: ColumnElement) -> ColumnElement[bool]:
        """`column` (an activity id) is one of `ids` (ascending). The range lets the planner
        read just the batch's stretch of an index, whatever the size of the table."""
        within = column.between(self.ids[0], self.ids[-1])
        # One parameter rather than one per id (SQLite takes at most 32,766 of them): an array
        # on PostgreSQL, a JSON list on SQLite.
        if self.dialect == "postgresql":
            return within & (column == sa.any_(literal(list(self.ids),
                                                       postgresql.ARRAY(sa.BigInteger))))
        listed = func.json_each(literal(json.dumps(list(self.ids)))).table_valued("value")
        return within & column.in_(select(listed.c.value))

    def conditions(self) -> list[ColumnElement[bool]]:
        """Which rows of ACTIVITY are in scope."""
        conditions = [] if self.ids is None else [self.has(ACTIVITY.c.id)]
        if self.live:  # never decide an activity twice, whatever its queue says
            conditions.append(ACTIVITY.c.processed_at.is_(None))
        if self.period is not None:
            start, end = self.period
            conditions += [ACTIVITY.c.processed_at.is_not(None), ACTIVITY.c.occurred_at >= start,
                           ACTIVITY.c.occurred_at < end,
                           ACTIVITY.c.outcome.not_in([o.value for o in _REFUSED_OUTCOMES])]
        return conditions

    def period_end(self, start: ColumnElement, period: CapPeriod) -> ColumnElement:
        """The first day after the cap period (day, ISO week or month) that begins on `start`."""
        if self.dialect == "sqlite":  # SQLite keeps dates as ISO text; date() moves them
            return func.date(start, {CapPeriod.day: "+1 day", CapPeriod.week: "+7 days",
                                     CapPeriod.month: "+1 month"}[period])
        length = {CapPeriod.day: "1 day", CapPeriod.week: "7 days", CapPeriod.month: "1 month"}
        return sa.cast(start + sa.literal_column(f"interval '{length[period]}'"), sa.Date)


# The activities in scope, each with its member's and advocate's standing and the advocate's tier
# multiplier in thousandths (see _MILLIS). Temporary: private to the connection, never written to
# PostgreSQL's WAL, and emptied when the transaction ends there (SQLite: by the next fill).
BATCH = sa.Table(
    "reward_batch", sa.MetaData(),
    sa.Column("id", BigId, primary_key=True, autoincrement=False),
    *(sa.Column(name, ACTIVITY.c[name].type) for name in (
        "member_id", "community_id", "kind", "occurred_at", "received_at", "local_day",
        "local_week", "local_month", "properties")),
    sa.Column("member_status", sa.String(20)),
    sa.Column("advocate_id", sa.Integer),
    sa.Column("advocate_status", sa.String(20)),
    sa.Column("tier_id", sa.Integer),
    sa.Column("multiplier_millis", sa.Integer),
    prefixes=["TEMPORARY"], postgresql_on_commit="DELETE ROWS",
)


_ANALYZED = ("id", "member_id", "advocate_id", "kind", "community_id", "member_status",
             "advocate_status", "tier_id", "local_day", "local_week", "local_month")


_CREATE_BATCH = sa.schema.CreateTable(BATCH, if_not_exists=True)
# Autovacuum never analyses a temporary table: without statistics the planner guesses its size
# and distribution, and picks nested loops over thousands of rows. Only the columns that rules
# filter, join and group on (half the time of every column), from a sample of 3,000 rows (the
# default 30,000 read the whole batch, for no better plan).
_ANALYZE_BATCH = [sa.text("SET LOCAL default_statistics_target = 10"),
                  sa.text(f"ANALYZE reward_batch ({', '.join(_ANALYZED)})")]


def _batch_rows(source: sa.FromClause, *conditions: ColumnElement[bool]) -> Select:
    """The activities of `source` (ACTIVITY, or a join with it) that meet `conditions`, as BATCH
    rows: with their member's and advocate's standing and the tier's multiplier."""
    multiplier = sa.cast(func.round(func.coalesce(TIER.c.multiplier, 1) * _MILLIS), sa.Integer)
    return (
        select(*(ACTIVITY.c[column.name] for column in BATCH.c if column.name in ACTIVITY.c),
               MEMBER.c.status, ADVOCATE.c.id, ADVOCATE.c.status, ADVOCATE.c.tier_id, multiplier)
        .select_from(source.join(MEMBER, MEMBER.c.id == ACTIVITY.c.member_id)
                     .outerjoin(ADVOCATE, ADVOCATE.c.member_id == ACTIVITY.c.member_id)
                     .outerjoin(TIER, TIER.c.id == ADVOCATE.c.tier_id))
        .where(*conditions)
    )


def _insert_batch(source: sa.FromClause, *conditions: ColumnElement[bool]) -> sa.Insert:
    """INSERT INTO BATCH the rows of _batch_rows(source, *conditions)."""
    return BATCH.insert().from_select([column.name for column in BATCH.c],
                                      _batch_rows(source, *conditions))


def fill_batch(scope: Scope) -> list[sa.Executable]:
    """The statements that (re)fill BATCH with the activities in scope."""
    statements = [_CREATE_BATCH, BATCH.delete(), _insert_batch(ACTIVITY, *scope.conditions())]
    if scope.dialect == "postgresql":
        statements += _ANALYZE_BATCH
    return statements


def fill_batch_from_queue(claimed: sa.CTE) -> tuple[list[sa.Executable], Select,
                                                     list[sa.Executable]]:
    """PostgreSQL's live batch, with no activity id travelling to the worker and back: the
    statements before, the one statement that fills BATCH with the pending activities the
    `claimed` CTE (a DELETE … RETURNING activity_id of the queue) takes off the queue and selects
    (claimed, filled): how many queue rows it took, how many of their activities were still
    pending; and the statements after, once some were."""
    taken = claimed.join(ACTIVITY, ACTIVITY.c.id == claimed.c.activity_id)
    filled = (_insert_batch(taken, ACTIVITY.c.processed_at.is_(None))
              .returning(BATCH.c.id).cte("filled"))
    counts = select(select(func.count()).select_from(claimed).scalar_subquery(),
                    select(func.count()).select_from(filled).scalar_subquery())
    return [_CREATE_BATCH], counts, _ANALYZE_BATCH


def _matching(rule: Rule, activity: sa.Table) -> list[ColumnElement[bool]]:
    """The rule's conditions on an activity row: kind, communities, window, properties."""
    terms = rule.terms
    conditions = [activity.c.kind == rule.activity_kind]
    if terms.community_ids:
        conditions.append(activity.c.community_id.in_(terms.community_ids))
    if rule.starts_at:
        conditions.append(activity.c.occurred_at >= rule.starts_at)
    if rule.ends_at:
        conditions.append(activity.c.occurred_at < rule.ends_at)
    for name, value in (terms.properties or {}).items():
        conditions.append(activity.c.properties[name].as_string() == value)
    return conditions


def _scored(rule: Rule, scope: Scope) -> list[ColumnElement[bool]]:
    """The activities in BATCH that this rule (version) scores."""
    conditions = _matching(rule, BATCH)
    if scope.live:
        conditions.append(BATCH.c.received_at >= rule.effective_from)
        if rule.effective_to is not None:
            conditions.append(BATCH.c.received_at < rule.effective_to)
    else:
        conditions.append(~exists().where(LEDGER.c.activity_id == BATCH.c.id,
                                          LEDGER.c.incentive_id == rule.incentive_id))
    return conditions


# An activity earns for its member's advocate if the member may earn and the advocate is active.
_EARNING = [BATCH.c.member_status.in_(EARNING_MEMBER_STATUSES),
            BATCH.c.advocate_status == ACTIVE_ADVOCATE]


def _key(prefix: str, number: ColumnElement) -> ColumnElement[str]:
    return literal(prefix) + sa.cast(number, sa.String)


def _not_paid(key: ColumnElement[str]) -> ColumnElement[bool]:
    return ~exists().where(LEDGER.c.idempotency_key == key)


def award_rows(rule: Rule, scope: Scope, now: datetime) -> Select:
    """The ledger rows (LEDGER_COLUMNS) that `rule` awards for the activities in BATCH."""
    build = {IncentiveKind.points_rule: _points_rule, IncentiveKind.milestone: _milestone,
             IncentiveKind.first_n: _first_n}[rule.kind]
    rows = build(rule, scope)
    awards = rule.kind == IncentiveKind.points_rule
    # WHERE true: SQLite cannot otherwise tell the upsert's ON from a join's ON.
    return select(
        rows.c.advocate_id, literal("award" if awards else "bonus"), rows.c.points,
        literal(rule.reason), rows.c.activity_id, literal(rule.incentive_id),
        literal(rule.version), rows.c.idempotency_key, literal(now, UTCDateTime),
        rows.c.activity_day if awards else sa.cast(sa.null(), sa.Date),
    ).where(sa.true())


def _points_rule_candidates(rule: Rule, scope: Scope) -> list[ColumnElement[bool]]:
    conditions = _scored(rule, scope) + _EARNING
    if rule.terms.tier_ids:
        conditions.append(BATCH.c.tier_id.in_(rule.terms.tier_ids))
    return conditions


def _points_rule(rule: Rule, scope: Scope) -> sa.Subquery:
    terms = rule.terms
    conditions = _points_rule_candidates(rule, scope)
    columns = [
        BATCH.c.advocate_id, BATCH.c.id.label("activity_id"),
        ((literal(rule.points) * BATCH.c.multiplier_millis) // _MILLIS).label("points"),
        _key("award:", BATCH.c.id).concat(f":{rule.incentive_id}").label("idempotency_key"),
        BATCH.c.local_day.label("activity_day"),
    ]
    if terms.cap is None:
        return select(*columns).where(*conditions).subquery("awards")

    period = terms.cap.per
    bucket = _bucket(BATCH, period)
    # The awards already paid in the candidate's (advocate, period): one range of the
    # (incentive, advocate, activity_day) index. By the day rather than the period itself, so
    # that a version with another cap period counts them too.
    paid = LEDGER.alias("paid")
    paid_before = (
        select(func.count()).select_from(paid)
        .where(paid.c.incentive_id == rule.incentive_id,
               paid.c.advocate_id == BATCH.c.advocate_id,
               paid.c.activity_day >= bucket,
               paid.c.activity_day < scope.period_end(bucket, period))
        .scalar_subquery()
    )
    candidates = select(
        *columns, paid_before.label("paid"),
        func.row_number().over(partition_by=(BATCH.c.advocate_id, bucket),
                               order_by=(BATCH.c.occurred_at, BATCH.c.id)).label("place"),
    ).where(*conditions).subquery("candidates")
    return (select(candidates.c.advocate_id, candidates.c.activity_id, candidates.c.points,
                   candidates.c.idempotency_key, candidates.c.activity_day)
            .where(candidates.c.place + candidates.c.paid <= terms.cap.max)
            .subquery("awards"))


def points_award_rows(rules: Sequence[Rule], scope: Scope, now: datetime) -> Select:
    """The ledger rows (LEDGER_COLUMNS) of several points rules of different incentives, in one
    SELECT. Each decides alone: an uncapped rule reads no award, a capped one only its own
    incentive's (in the ledger as the statement starts), so one INSERT can write them all.
    Two versions of one incentive share its caps: they go in different statements, one after the
    other (see points_rule_rounds)."""
    assert len({rule.incentive_id for rule in rules}) == len(rules)
    # Every award is decided before the first is written (PostgreSQL: a materialised CTE): the
    # look-ups of earlier awards never meet the statement's own new rows, which they would have
    # to skip one by one (planned on a still empty ledger, with a sequential scan per group: the
    # first 25,000 activities took 1.4 s instead of 0.35).
    union = (sa.union_all(*(award_rows(rule, scope, now) for rule in rules)).cte("points")
             .prefix_with("MATERIALIZED", dialect="postgresql"))
    return select(*union.c).where(sa.true())  # WHERE true: see award_rows


def points_rule_rounds(rules: Sequence[Rule]) -> list[list[Rule]]:
    """The points rules among `rules` in rounds for points_award_rows: each incentive at most
    once a round, its versions in the order of `rules` (by version), one round after the other."""
    rounds: list[list[Rule]] = []
    seen: dict[int, int] = {}
    for rule in rules:
        if rule.kind != IncentiveKind.points_rule:
            continue
        place = seen.get(rule.incentive_id, 0)
        seen[rule.incentive_id] = place + 1
        if place == len(rounds):
            rounds.append([])
        rounds[place].append(rule)
    return rounds


def _over_cap(rules: Sequence[Rule], scope: Scope) -> ColumnElement[bool]:
    """The activity in BATCH is a candidate of one of these capped points rules: if it was not
    paid, it was over a cap."""
    return sa.or_(*(sa.and_(*_points_rule_candidates(rule, scope)) for rule in rules))


def _bucket(activity: sa.Table, period: CapPeriod) -> ColumnElement:
    return {CapPeriod.day: activity.c.local_day, CapPeriod.week: activity.c.local_week,
            CapPeriod.month: activity.c.local_month}[period]


def _milestone(rule: Rule, scope: Scope) -> sa.Subquery:
    key_prefix = f"milestone:{rule.incentive_id}:"
    earlier = ACTIVITY.alias("earlier")
    reached = (
        select(func.count()).select_from(earlier)
        .where(earlier.c.member_id == BATCH.c.member_id, earlier.c.id <= BATCH.c.id,
               *_matching(rule, earlier))
        .scalar_subquery()
    )
    firsts = (
        select(BATCH.c.advocate_id, func.min(BATCH.c.id).label("activity_id"))
        .where(*_scored(rule, scope), *_EARNING, _not_paid(_key(key_prefix, BATCH.c.advocate_id)),
               reached >= rule.terms.count)
        .group_by(BATCH.c.advocate_id)
        .subquery("reached")
    )
    return select(firsts.c.advocate_id, firsts.c.activity_id, literal(rule.points).label("points"),
                  _key(key_prefix, firsts.c.advocate_id).label("idempotency_key")
                  ).subquery("awards")


def _first_n(rule: Rule, scope: Scope) -> sa.Subquery:
    key_prefix = f"first_n:{rule.incentive_id}:"
    candidates = (
        select(BATCH.c.advocate_id, BATCH.c.id.label("activity_id"), BATCH.c.occurred_at,
               func.row_number().over(partition_by=BATCH.c.advocate_id,
                                      order_by=(BATCH.c.occurred_at, BATCH.c.id)).label("nth"))
        .where(*_scored(rule, scope), *_EARNING, _not_paid(_key(key_prefix, BATCH.c.advocate_id)))
        .subquery("candidates")
    )
    ranked = (
        select(candidates.c.advocate_id, candidates.c.activity_id,
               func.row_number().over(order_by=(candidates.c.occurred_at,
                                                 candidates.c.activity_id)).label("place"))
        .where(candidates.c.nth == 1)
        .subquery("ranked")
    )
    # All of an incentive's entries are its bonuses; the partial index on bonuses finds them.
    paid = (select(func.count()).select_from(LEDGER)
            .where(LEDGER.c.incentive_id == rule.incentive_id, LEDGER.c.kind == "bonus")
            .scalar_subquery())
    return (select(ranked.c.advocate_id, ranked.c.activity_id,
                   literal(rule.points).label("points"),
                   _key(key_prefix, ranked.c.advocate_id).label("idempotency_key"))
            .where(ranked.c.place <= rule.terms.n - paid)
            .subquery("awards"))


def referral_key(rule: Rule, referred_member_id: int) -> str:
    return f"referral:{rule.incentive_id}:{referred_member_id}"


def referral_candidates(rule: Rule, scope: Scope) -> Select:
    """Referred members with a qualifying activity in BATCH, not yet paid for by this incentive
    nor refused: (member_id, activity_id (their first in scope), referrer_advocate_id,
    referrer_member_id). The referrer must be an active advocate whose member may earn."""
    referrer, referrer_member = ADVOCATE.alias("referrer"), MEMBER.alias("referrer_member")
    source = (BATCH.join(MEMBER, MEMBER.c.id == BATCH.c.member_id)
              .join(referrer, referrer.c.referral_code == func.upper(MEMBER.c.referred_by_code))
              .join(referrer_member, referrer_member.c.id == referrer.c.member_id))
    refused = exists().where(REFERRAL.c.referred_member_id == BATCH.c.member_id,
                             REFERRAL.c.status == "refused")
    return (
        select(BATCH.c.member_id, func.min(BATCH.c.id).label("activity_id"),
               referrer.c.id.label("referrer_advocate_id"),
               referrer.c.member_id.label("referrer_member_id"))
        .select_from(source)
        .where(*_scored(rule, scope), BATCH.c.member_status.in_(EARNING_MEMBER_STATUSES),
               referrer.c.status == ACTIVE_ADVOCATE,
               referrer_member.c.status.in_(EARNING_MEMBER_STATUSES), ~refused,
               _not_paid(_key(f"referral:{rule.incentive_id}:", BATCH.c.member_id)))
        .group_by(BATCH.c.member_id, referrer.c.id, referrer.c.member_id)
    )


def advocates_involved() -> Select:
    """The advocates whose points the activities in BATCH can move: their members' advocates and
    the advocates who referred those members. Ordered by id, to lock them in one global order."""
    referred_with = select(func.upper(MEMBER.c.referred_by_code)).where(
        MEMBER.c.id.in_(select(BATCH.c.member_id)), MEMBER.c.referred_by_code.is_not(None))
    return (select(ADVOCATE.c.id)
            .where(sa.or_(ADVOCATE.c.id.in_(select(BATCH.c.advocate_id)),
                          ADVOCATE.c.referral_code.in_(referred_with)))
            .order_by(ADVOCATE.c.id))


def record_outcomes(scope: Scope, now: datetime, rules: Sequence[Rule] = ()) -> sa.Update:
    """Marks the activities in BATCH processed, with their outcome, once `rules` (those applied
    to them) have run."""
    # BATCH's first and last ids bound both look-ups to the batch's stretch of their index:
    # without them the planner reads the activity table from its start, and (with the ledger's
    # statistics lagging behind its growth) the whole ledger.
    first, last = (select(func.min(BATCH.c.id)).scalar_subquery(),
                   select(func.max(BATCH.c.id)).scalar_subquery())
    awarded = BATCH.c.id.in_(select(LEDGER.c.activity_id)
                             .where(LEDGER.c.activity_id.between(first, last)))
    outcome = sa.case(
        (BATCH.c.member_status == "banned", ActivityOutcome.member_banned.value),
        (BATCH.c.member_status == "suspended", ActivityOutcome.member_suspended.value),
        # A referred member's activity can pay the referrer even when its member is no advocate.
        (awarded, ActivityOutcome.awarded.value),
        *([(_over_cap(capped, scope), ActivityOutcome.capped.value)]
          if (capped := [rule for rule in rules if rule.kind == IncentiveKind.points_rule
                         and rule.terms.cap is not None]) else []),
        (BATCH.c.advocate_id.is_(None), ActivityOutcome.not_an_advocate.value),
        (BATCH.c.advocate_status != ACTIVE_ADVOCATE, ActivityOutcome.advocate_inactive.value),
        else_=ActivityOutcome.no_matching_incentive.value,
    )
    return (sa.update(ACTIVITY)
            .where(ACTIVITY.c.id == BATCH.c.id, ACTIVITY.c.id.between(first, last))
            .values(processed_at=now, outcome=outcome))
