"""Previews and rescores of an incentive over past activities, as jobs (`Job` rows).

Both apply the incentive's current terms (shared.rules.awards, the same SQL as the live engine)
to the processed activities that occurred in a period, leaving out what it awarded already.
A preview only counts the rows that would be written: one read-only transaction, nothing in the
ledger. A rescore writes them, a batch per transaction that also moves the balances and the job's
progress, so a run that dies resumes after its last batch, and a second run of the same job waits
for the first's batch and carries on after it."""

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services.worker.rewards import (
    apply_rules,
    begin_batch,
    decide_referrals,
    gains_since,
    prepare,
)
from shared.db import session_scope
from shared.models import Activity, Advocate, Incentive, IncentiveVersion, Job, Member
from shared.models.base import utcnow
from shared.models.enums import JobStatus
from shared.rules.awards import ACTIVITY, LEDGER, Scope, award_rows, fill_batch
from shared.rules.terms import ActivityOutcome, IncentiveKind, Rule
from shared.settings import get_settings

log = logging.getLogger("hearth.worker.incentives")

# Advocates listed in a preview's result, by points.
TOP_ADVOCATES = 100
# A job that keeps dying (a bug, a timeout) is given up after this many runs.
MAX_ATTEMPTS = 5
FINISHED = (JobStatus.succeeded, JobStatus.failed)

Work = Callable[[int, dict[str, Any]], Awaitable[None]]


async def preview_incentive(ctx: dict[str, Any], job_id: int) -> None:
    await _run(job_id, _preview)


async def rescore_incentive(ctx: dict[str, Any], job_id: int) -> None:
    await _run(job_id, _rescore)


async def _run(job_id: int, work: Work) -> None:
    async with session_scope() as session:
        job = await session.get(Job, job_id)
        if job is None or job.status in FINISHED:
            return
        if job.attempts >= MAX_ATTEMPTS:
            _close(job, JobStatus.failed, f"Stopped after {job.attempts} attempts because of an "
                                          "internal error (logged).")
            return
        job.status, job.started_at, job.attempts = JobStatus.running, utcnow(), job.attempts + 1
        params = dict(job.params)
    try:
        await work(job_id, params)
    except Exception:
        log.exception("%s job %s stopped", work.__name__, job_id)
        async with session_scope() as session:
            job = await session.get(Job, job_id)
            if job.status == JobStatus.running:
                # The sweep queues it again; a rescore resumes after its last batch.
                job.status = JobStatus.queued


def _close(job: Job, status: JobStatus, reason: str | None = None) -> None:
    job.status, job.finished_at = status, utcnow()
    if reason:
        job.errors = [*job.errors, {"line": None, "reason": reason}]


def _period(params: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(params["start"]), datetime.fromisoformat(params["end"])


async def _rule(
    session: AsyncSession, incentive_id: int, version: int | None = None
) -> Rule | None:
    """The incentive's current version, or the given one."""
    incentive = await session.get(Incentive, incentive_id)
    if incentive is None:
        return None
    terms = (await session.exec(select(IncentiveVersion).where(
        IncentiveVersion.incentive_id == incentive_id,
        IncentiveVersion.version == (version or incentive.version)))).scalar_one()
    return Rule.of(incentive, terms)


async def _preview(job_id: int, params: dict[str, Any]) -> None:
    # Computed in a transaction of its own that writes nothing but its temporary table: on
    # SQLite, a transaction that has read may not start writing once another writer committed.
    async with session_scope() as session:
        rule = await _rule(session, params["incentive_id"])
        if rule is not None:
            scope = Scope.past(*_period(params), session.bind.dialect.name)
            for statement in fill_batch(scope):
                await session.exec(statement)
            preview = _referral_preview if rule.kind == IncentiveKind.referral else _awards_preview
            totals, top, extra = await preview(session, rule, scope)
            result = {"incentive_id": rule.incentive_id, "incentive_version": rule.version,
                      "start": params["start"], "end": params["end"], **totals, **extra,
                      "advocates": await _named(session, top)}
    async with session_scope() as session:
        job = await session.get(Job, job_id)
        if rule is None:
            _close(job, JobStatus.failed, f"Incentive {params['incentive_id']} does not exist.")
            return
        job.result, job.progress, job.total = result, 1, 1
        _close(job, JobStatus.succeeded)


Totals = dict[str, int]
Top = list[tuple[int, int, int]]  # (advocate_id, awards, points), most points first


async def _awards_preview(
    session: AsyncSession, rule: Rule, scope: Scope
) -> tuple[Totals, Top, dict]:
    rows = award_rows(rule, scope, utcnow()).subquery("would_award")
    awards, points = (await session.exec(
        select(func.count(), func.coalesce(func.sum(rows.c.points), 0)))).one()
    points_per_advocate = func.sum(rows.c.points)
    top = (await session.exec(
        select(rows.c.advocate_id, func.count(), points_per_advocate)
        .group_by(rows.c.advocate_id)
        .order_by(points_per_advocate.desc(), rows.c.advocate_id)
        .limit(TOP_ADVOCATES))).all()
    return {"awards": awards, "points": points}, [tuple(row) for row in top], {}


async def _referral_preview(
    session: AsyncSession, rule: Rule, scope: Scope
) -> tuple[Totals, Top, dict]:
    decisions = await decide_referrals(session, rule, scope)
    paid = Counter(d.referrer_advocate_id for d in decisions if d.refusal is None)
    refused = Counter(d.refusal.value for d in decisions if d.refusal is not None)
    top = sorted(((advocate_id, n, n * rule.points) for advocate_id, n in paid.items()),
                 key=lambda row: (-row[2], row[0]))[:TOP_ADVOCATES]
    return ({"awards": paid.total(), "points": paid.total() * rule.points}, top,
            {"refused": dict(refused)})


async def _named(session: AsyncSession, top: Top) -> list[dict[str, Any]]:
    names = {advocate_id: (member_id, name) for advocate_id, member_id, name in (
        await session.exec(select(Advocate.id, Member.id, Member.name)
                           .join(Member, col(Member.id) == Advocate.member_id)
                           .where(col(Advocate.id).in_([row[0] for row in top])))).all()}
    return [{"advocate_id": advocate_id, "member_id": names[advocate_id][0],
             "name": names[advocate_id][1], "awards": awards, "points": points}
            for advocate_id, awards, points in top]


async def _rescore(job_id: int, params: dict[str, Any]) -> None:
    start, end = _period(params)
    async with session_scope() as session:
        job = await session.get(Job, job_id)
        if job.total is None:
            job.total = (await session.exec(select(func.count()).select_from(ACTIVITY).where(
                *Scope.past(start, end, session.bind.dialect.name).conditions()))).scalar_one()
    while await _rescore_batch(job_id, params["incentive_id"], start, end):
        pass


async def _rescore_batch(job_id: int, incentive_id: int, start: datetime, end: datetime) -> bool:
    """Rescores the next batch; False once the job is done."""
    async with session_scope() as session:
        await begin_batch(session)
        # The job's row lock makes a second run of the job wait for this batch, then go on
        # after it.
        job = await session.get(Job, job_id, with_for_update=True)
        if job.status != JobStatus.running:
            return False
        # The version the job started with, so that a resumed run applies the same terms.
        rule = await _rule(session, incentive_id, job.result.get("incentive_version"))
        if rule is None:
            _close(job, JobStatus.failed, f"Incentive {incentive_id} does not exist.")
            return False
        dialect = session.bind.dialect.name
        done_up_to = job.result.get("last_activity_id", 0)
        ids = (await session.exec(
            select(Activity.id).where(*Scope.past(start, end, dialect).conditions(),
                                      col(Activity.id) > done_up_to)
            .order_by(Activity.id).limit(get_settings().reward_batch_size))).scalars().all()
        result = {"incentive_id": incentive_id, "incentive_version": rule.version,
                  "awards": job.result.get("awards", 0), "points": job.result.get("points", 0),
                  "last_activity_id": done_up_to}
        if not ids:
            job.result = result
            _close(job, JobStatus.succeeded)
            return False
        scope = Scope.past(start, end, dialect, ids=ids)
        await prepare(session, scope)
        last_entry_id = await apply_rules(session, [rule], scope, utcnow())
        gains = await gains_since(session, last_entry_id)
        await session.exec(
            update(ACTIVITY)
            .where(scope.has(ACTIVITY.c.id), ACTIVITY.c.outcome != ActivityOutcome.awarded,
                   exists().where(LEDGER.c.activity_id == ACTIVITY.c.id))
            .values(outcome=ActivityOutcome.awarded))
        job.progress += len(ids)
        job.result = {**result, "awards": result["awards"] + gains.entries,
                      "points": result["points"] + gains.points, "last_activity_id": ids[-1]}
        return True
