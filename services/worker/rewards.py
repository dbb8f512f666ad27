"""The reward calculation: pending activities become ledger entries, balances and tiers.

Activities are taken off the queue (shared.activity_queue) in id order, a batch at a time, and
each batch is one transaction that deletes their queue rows, writes its ledger entries, moves the
balances, promotes tiers and marks the activities processed with their outcome. Nothing is
decided twice: a crash rolls the whole batch back, claim included, and a batch that committed is
no longer queued. Every rule is an INSERT … SELECT … ON CONFLICT DO NOTHING
(shared.rules.awards; the points rules of different incentives share one), and the ledger's
unique keys make a rerun write nothing new.

Concurrency. On PostgreSQL several workers share the queue: each claims its batch of queue
rows with FOR UPDATE SKIP LOCKED, then locks the advocates its activities can pay (their
members' and the referrers of those members) in id order, and the first_n incentives in id
order. So two batches that touch the same advocate run one after the other, and the second reads
the first's awards (caps, milestones, first N) once it may proceed; the one global lock order
rules out deadlocks. A backlog of several batches is worked in lanes (HEARTH_REWARD_LANES), each
its own part of the queue split by member (shared.activity_queue.Lane): their batches lock
different advocates (referrers apart), so they run side by side on the database's cores.
SQLite has a single writer: one lane, and a batch begins with BEGIN IMMEDIATE, which serialises
everything.

The job takes no arguments and is queued under one id (shared.jobs.enqueue_reward_calculation);
the cron runs the same pass every minute, so a lost job or a Redis outage only delays awards."""

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Subquery, Update, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.activity_queue import (
    ALL_LANES,
    Lane,
    claim,
    claimed_cte,
    enqueue_unqueued,
    pending_ids,
)
from shared.db import get_engine, session_scope
from shared.ledger import EntryKind, insert_ignoring_duplicates, promoted_tier
from shared.models import Incentive, IncentiveVersion, Member, MemberIdentity
from shared.models.base import utcnow
from shared.rules.awards import (
    ADVOCATE,
    BATCH,
    LEDGER,
    LEDGER_COLUMNS,
    REFERRAL,
    Scope,
    advocates_involved,
    award_rows,
    fill_batch,
    fill_batch_from_queue,
    points_award_rows,
    points_rule_rounds,
    record_outcomes,
    referral_candidates,
    referral_key,
)
from shared.rules.referrals import Person, RefusalReason, refusal_reason
from shared.rules.terms import IncentiveKind, IncentiveStatus, Rule
from shared.settings import get_settings

log = logging.getLogger("hearth.worker.rewards")


async def process_pending_activities(ctx: dict[str, Any] | None = None) -> int:
    """Processes pending activities until none is left; returns how many it processed. On
    PostgreSQL a backlog of several batches is worked in up to `reward_lanes` lanes at once (see
    Lane); what fits in one batch stays one batch, ranked together (first N, caps)."""
    settings = get_settings()
    size = settings.reward_batch_size
    lanes = await _lanes_needed(settings.reward_lanes, size)
    done = await asyncio.gather(*(_drain(Lane(index, lanes), size) for index in range(lanes)))
    return sum(done)


async def _lanes_needed(most: int, batch_size: int) -> int:
    """One lane per batch pending, up to `most`; always one on SQLite (a single writer)."""
    if most == 1 or get_engine().dialect.name == "sqlite":
        return 1
    async with session_scope() as session:
        pending = (await session.exec(select(func.count()).select_from(
            pending_ids().limit(batch_size * most).subquery()))).one()[0]
    return max(1, min(most, -(-pending // batch_size)))


async def _drain(lane: Lane, size: int) -> int:
    total = 0
    while processed := await process_batch(size, lane):
        total += processed
    return total


async def requeue_unqueued(ctx: dict[str, Any] | None = None) -> int:
    """The sweep behind the queue: pending activities without a queue row (written by a bulk load
    or by hand rather than through shared.activity_queue) are queued, then processed."""
    async with session_scope() as session:
        found = await enqueue_unqueued(session)
    if found:
        log.warning("queued %d pending activities that had no queue row", found)
        await process_pending_activities(ctx)
    return found


async def begin_batch(session: AsyncSession) -> None:
    """Opens a batch's transaction. SQLite: take the database's one write lock before reading
    anything, so nothing the batch reads can change before it commits. PostgreSQL: no JIT
    compilation, which costs more than a batch's statements take to run."""
    if session.bind.dialect.name == "sqlite":
        await session.exec(text("BEGIN IMMEDIATE"))
    else:
        await session.exec(text("SET LOCAL jit = off"))


async def process_batch(size: int | None = None, lane: Lane = ALL_LANES) -> int:
    """Decides one batch (`size`, else HEARTH_REWARD_BATCH_SIZE) of `lane`'s pending
    activities; returns how many it took off the queue (0: none was left)."""
    size = size or get_settings().reward_batch_size
    async with session_scope() as session:
        await begin_batch(session)
        dialect = session.bind.dialect.name
        if dialect == "postgresql":
            claimed, filled = await _claim_into_batch(session, size, lane)
            if not filled:  # nothing left, or only queue rows of activities decided already
                return claimed
            scope = Scope.batch(dialect)
        else:
            ids = sorted((await session.exec(claim(size, dialect, lane))).scalars().all())
            if not ids:
                return 0
            claimed, scope = len(ids), Scope.batch(dialect, ids)
            for statement in fill_batch(scope):
                await session.exec(statement)
        now = utcnow()
        await lock_advocates(session, scope)
        rules = await _rules_in_force(session)
        await apply_rules(session, rules, scope, now)
        await session.exec(record_outcomes(scope, now, rules))
        log.debug("processed %d activities", claimed)
        return claimed


async def _claim_into_batch(session: AsyncSession, size: int, lane: Lane) -> tuple[int, int]:
    """PostgreSQL: takes a batch off the queue into BATCH in one statement; returns how many
    queue rows it took and how many of their activities were still pending."""
    before, fill, after = fill_batch_from_queue(claimed_cte(size, lane))
    for statement in before:
        await session.exec(statement)
    claimed, filled = (await session.exec(fill)).one()
    if filled:
        for statement in after:
            await session.exec(statement)
    return claimed, filled


async def prepare(session: AsyncSession, scope: Scope) -> None:
    """Copies the activities in scope to BATCH and locks the advocates they can pay."""
    for statement in fill_batch(scope):
        await session.exec(statement)
    await lock_advocates(session, scope)


async def lock_advocates(session: AsyncSession, scope: Scope) -> None:
    """PostgreSQL: locks the advocates the activities in BATCH can pay, in id order (see the
    module's docstring); SQLite's batch already holds the one write lock."""
    if scope.dialect == "postgresql":
        (await session.exec(advocates_involved().with_for_update())).all()


async def _rules_in_force(session: AsyncSession) -> list[Rule]:
    """The versions of active incentives that may score some activity of the batch: in force at
    some time the batch's activities were received, for a kind the batch has."""
    first, last = (await session.exec(
        select(func.min(BATCH.c.received_at), func.max(BATCH.c.received_at)))).one()
    kinds = select(BATCH.c.kind).distinct()
    rows = (await session.exec(
        select(Incentive, IncentiveVersion)
        .join(IncentiveVersion, col(IncentiveVersion.incentive_id) == Incentive.id)
        .where(Incentive.status == IncentiveStatus.active,
               IncentiveVersion.effective_from <= last,
               or_(col(IncentiveVersion.effective_to).is_(None),
                   col(IncentiveVersion.effective_to) > first),
               col(IncentiveVersion.activity_kind).in_(kinds))
        .order_by(Incentive.id, IncentiveVersion.version)
    )).all()
    return [Rule.of(incentive, version) for incentive, version in rows]


async def apply_rules(
    session: AsyncSession, rules: list[Rule], scope: Scope, now: datetime
) -> int:
    """Writes what `rules` award for the activities in scope (`scope.ids`), then credits and
    promotes the advocates in one UPDATE (on PostgreSQL, the points rules' INSERT does it for
    their awards). The caller holds the advocates' locks. Returns the
    ledger id that the entries written now come after."""
    last_entry_id = (await session.exec(select(func.coalesce(func.max(LEDGER.c.id), 0)))).one()[0]
    if not rules:
        return last_entry_id
    first_n = sorted({rule.incentive_id for rule in rules if rule.kind == IncentiveKind.first_n})
    if first_n and scope.dialect == "postgresql":
        # N is a count over the whole incentive: batches of different advocates take turns.
        (await session.exec(select(Incentive.id).where(col(Incentive.id).in_(first_n))
                             .order_by(Incentive.id).with_for_update())).all()
    # The points rules in as few statements as their versions allow: usually one. On PostgreSQL
    # that statement also credits and promotes the advocates, from its INSERT's RETURNING rather
    # than by reading the ledger again.
    awards_credited = False
    for points_rules in points_rule_rounds(rules):
        # An award's idempotency key is made of these two: one index says it all.
        written = (insert_ignoring_duplicates(session, LEDGER, on=("activity_id", "incentive_id"))
                   .from_select(LEDGER_COLUMNS, points_award_rows(points_rules, scope, now)))
        if scope.dialect == "postgresql":
            written = written.returning(LEDGER.c.advocate_id, LEDGER.c.points).cte("written")
            await session.exec(_credit(
                select(written.c.advocate_id, func.sum(written.c.points).label("points"))
                .group_by(written.c.advocate_id).subquery("gained"), now))
            awards_credited = True
        else:
            await session.exec(written)
    if awards_credited and all(rule.kind == IncentiveKind.points_rule for rule in rules):
        return last_entry_id
    for rule in rules:
        if rule.kind == IncentiveKind.referral:
            await _settle_referrals(session, rule, scope, now)
        elif rule.kind != IncentiveKind.points_rule:
            await session.exec(insert_ignoring_duplicates(session, LEDGER)
                               .from_select(LEDGER_COLUMNS, award_rows(rule, scope, now)))
    # Points rules write awards, the other kinds bonuses: those credited above are left out.
    await session.exec(_credit(_gained(last_entry_id,
                                       EntryKind.bonus if awards_credited else None), now))
    return last_entry_id


def _credit(gained: Subquery, now: datetime) -> Update:
    """Adds `gained` (advocate_id, points) to the advocates' balances and lifetime points and
    promotes them. They are all awards and bonuses: earned points, for the balance and the
    lifetime alike. The promotion reads the new lifetime total in the same statement."""
    lifetime = ADVOCATE.c.lifetime_points + gained.c.points
    return (update(ADVOCATE).where(ADVOCATE.c.id == gained.c.advocate_id)
            .values(balance=ADVOCATE.c.balance + gained.c.points, lifetime_points=lifetime,
                    tier_id=promoted_tier(lifetime), updated_at=now))


def _gained(last_entry_id: int, kind: EntryKind | None = None) -> Subquery:
    """Per advocate, the points and entries (of `kind`, or any) written after `last_entry_id`
    for the activities in BATCH: what one batch added."""
    kinds = [] if kind is None else [LEDGER.c.kind == kind]
    return (select(LEDGER.c.advocate_id, func.sum(LEDGER.c.points).label("points"),
                   func.count().label("entries"))
            .where(LEDGER.c.id > last_entry_id, LEDGER.c.activity_id.in_(select(BATCH.c.id)),
                   *kinds)
            .group_by(LEDGER.c.advocate_id)
            .subquery("gained"))


@dataclass(frozen=True)
class Gains:
    entries: int
    points: int


async def gains_since(session: AsyncSession, last_entry_id: int) -> Gains:
    """What was written for the activities in BATCH after `last_entry_id`, in total."""
    gained = _gained(last_entry_id)
    entries, points = (await session.exec(
        select(func.coalesce(func.sum(gained.c.entries), 0),
               func.coalesce(func.sum(gained.c.points), 0)))).one()
    # PostgreSQL sums bigints as numerics.
    return Gains(int(entries), int(points))


@dataclass(frozen=True)
class ReferralDecision:
    member_id: int
    activity_id: int
    referrer_advocate_id: int
    refusal: RefusalReason | None


async def decide_referrals(
    session: AsyncSession, rule: Rule, scope: Scope
) -> list[ReferralDecision]:
    candidates = (await session.exec(referral_candidates(rule, scope))).all()
    if not candidates:
        return []
    people = await _people(session, {c.member_id for c in candidates}
                           | {c.referrer_member_id for c in candidates})
    return [ReferralDecision(c.member_id, c.activity_id, c.referrer_advocate_id,
                             refusal_reason(people[c.referrer_member_id], people[c.member_id]))
            for c in candidates]


async def _people(session: AsyncSession, member_ids: set[int]) -> dict[int, Person]:
    emails = dict((await session.exec(
        select(Member.id, Member.email_key).where(col(Member.id).in_(member_ids)))).all())
    identities: dict[int, set[tuple[str, str]]] = {member_id: set() for member_id in member_ids}
    for member_id, provider, external_id in (await session.exec(
        select(MemberIdentity.member_id, MemberIdentity.provider, MemberIdentity.external_id)
        .where(col(MemberIdentity.member_id).in_(member_ids))
    )).all():
        identities[member_id].add((provider, external_id))
    return {member_id: Person(member_id, emails.get(member_id), frozenset(identities[member_id]))
            for member_id in member_ids}


async def _settle_referrals(session: AsyncSession, rule: Rule, scope: Scope, now: datetime) -> None:
    """Records each decision on the member's Referral (a refusal with its reason) and pays the
    referrers of the others."""
    decisions = await decide_referrals(session, rule, scope)
    if not decisions:
        return
    dialect = sqlite if scope.dialect == "sqlite" else postgresql
    upsert = dialect.insert(REFERRAL)
    await session.exec(
        # A referral decided before (paid by another incentive, or refused) stays as it was.
        upsert.on_conflict_do_update(
            index_elements=[REFERRAL.c.referred_member_id],
            set_={name: upsert.excluded[name]
                  for name in ("referrer_advocate_id", "status", "reason", "decided_at")},
            where=REFERRAL.c.status == "pending"),
        params=[{"referrer_advocate_id": d.referrer_advocate_id, "referred_member_id": d.member_id,
                 "status": "refused" if d.refusal else "paid", "reason": d.refusal,
                 "created_at": now, "decided_at": now} for d in decisions],
    )
    paid = [{"advocate_id": d.referrer_advocate_id, "kind": EntryKind.bonus, "points": rule.points,
             "reason": rule.reason, "activity_id": d.activity_id,
             "incentive_id": rule.incentive_id, "incentive_version": rule.version,
             "idempotency_key": referral_key(rule, d.member_id), "created_at": now}
            for d in decisions if d.refusal is None]
    if paid:
        await session.exec(insert_ignoring_duplicates(session, LEDGER), params=paid)
