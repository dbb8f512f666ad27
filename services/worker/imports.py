"""The member import job.

The uploaded CSV lives in its `Job` row. Rows are imported in batches, each in one transaction that
also advances the job's progress, counts and errors, so a run that dies (worker killed, Redis lost,
timeout) resumes after the last committed batch and never applies a row twice. Each batch is
set-based: one query finds the batch's existing members by email, new members are inserted
together, and memberships are looked up and created for the whole batch at once.

Running the job again is harmless: a finished job is left alone, a second concurrent run stops at
the first batch the other run already claimed, and importing the same file again changes nothing
(its rows count as unchanged)."""

import logging
from collections import Counter
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import col, select, tuple_, update
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import session_scope
from shared.member_csv import (
    OUTCOMES,
    CheckedRow,
    CsvFormatError,
    MemberRow,
    check_rows,
    read_rows,
)
from shared.models import Community, Job, Member, Membership
from shared.models.base import utcnow
from shared.models.enums import JobStatus, MembershipRole

log = logging.getLogger("hearth.worker.imports")

BATCH_SIZE = 500
# A run that keeps failing (a bug, a row that crashes the worker) is given up after this many.
MAX_ATTEMPTS = 5
# Errors beyond this are counted in `result.failed` but not listed: a broken file of 50,000 rows
# should not turn the job row into megabytes of the same message.
MAX_LISTED_ERRORS = 1000
# Another writer can create the same member between a batch's lookup and its insert; the next try
# of the batch finds that member and updates it instead.
BATCH_TRIES = 3
ACTIVE = (JobStatus.queued, JobStatus.running)
GIVE_UP_REASON = (f"The import stopped after {MAX_ATTEMPTS} attempts because of an internal error; "
                  "it has been logged.")
# Batches update the job's counts; re-reading the whole file each time would be waste.
WITHOUT_PAYLOAD = defer(col(Job.payload))
# Fields a row sets on the member when its cell is not blank.
MEMBER_FIELDS = ("name", "email", "handle", "country", "timezone", "interests")


async def import_members(ctx: dict[str, Any], job_id: int) -> None:
    if not await _start(job_id):
        return
    try:
        await _run(job_id)
    except CsvFormatError as exc:
        await _finish(job_id, JobStatus.failed, str(exc))
    except Exception:
        log.exception("member import %s stopped", job_id)
        await _after_crash(job_id)


# Every status change below is one conditional UPDATE issued first in its transaction: atomic
# under concurrent runs, and on SQLite it takes the write lock up front (a read followed by a
# write fails instead of waiting when another connection committed in between).


async def _start(job_id: int) -> bool:
    """Marks the job running; False when there is nothing (more) to do."""
    async with session_scope() as session:
        started = await session.exec(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.status).in_(ACTIVE),
                   col(Job.attempts) < MAX_ATTEMPTS)
            .values(status=JobStatus.running, started_at=utcnow(), attempts=col(Job.attempts) + 1)
        )
    if started.rowcount == 1:
        return True
    # Unknown, finished, or out of attempts (each dying before it could record why).
    await _finish(job_id, JobStatus.failed, GIVE_UP_REASON)
    return False


async def _run(job_id: int) -> None:
    async with session_scope() as session:
        payload, progress = (await session.exec(
            select(Job.payload, Job.progress).where(col(Job.id) == job_id)
        )).one()
    rows = check_rows(read_rows(payload or ""))
    for start in range(progress, len(rows), BATCH_SIZE):
        batch = rows[start:start + BATCH_SIZE]
        if not await _import_batch_with_retries(job_id, start, batch):
            log.info("member import %s: another run is ahead at row %d; leaving it", job_id, start)
            return
    await _finish(job_id, JobStatus.succeeded)


async def _import_batch_with_retries(job_id: int, start: int, batch: list[CheckedRow]) -> bool:
    for _ in range(BATCH_TRIES - 1):
        try:
            return await _import_batch(job_id, start, batch)
        except IntegrityError:
            log.info("member import %s: batch at row %d met a concurrent write; retrying",
                     job_id, start)
    return await _import_batch(job_id, start, batch)


async def _import_batch(job_id: int, start: int, batch: list[CheckedRow]) -> bool:
    """Imports one batch and records it on the job, atomically. False if the batch was no longer
    this run's to do."""
    async with session_scope() as session:
        # Claim the batch first: the conditional update locks the job row, so a second run of the
        # same job waits here and then finds the progress moved on.
        claim = await session.exec(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.status) == JobStatus.running,
                   col(Job.progress) == start)
            .values(progress=start + len(batch))
        )
        if claim.rowcount != 1:
            return False
        outcomes, errors = await _apply(session, batch)
        job = await session.get(Job, job_id, options=[WITHOUT_PAYLOAD])
        counts = Counter(outcomes) + Counter(failed=len(errors))
        job.result = {name: job.result.get(name, 0) + counts[name] for name in OUTCOMES}
        job.errors = (job.errors + errors)[:MAX_LISTED_ERRORS]
        return True


async def _apply(
    session: AsyncSession, batch: list[CheckedRow]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Writes the batch's good rows. Returns an outcome per imported row and the rows' errors."""
    errors = [{"line": item.line, "reason": item.error} for item in batch if item.error]
    good = [(item.line, item.row) for item in batch if item.row is not None]

    slugs = {row.community for _, row in good if row.community}
    community_ids = await _community_ids(session, slugs)
    known = []
    for line, row in good:
        if row.community and row.community not in community_ids:
            errors.append({"line": line,
                           "reason": f"community: no community has the slug {row.community!r}"})
        else:
            known.append((line, row))
    good = known

    members = await _members_by_email_key(session, {row.email_key for _, row in good})
    outcomes: dict[int, str] = {}
    new_members = []
    for line, row in good:
        member = members.get(row.email_key)
        if member is None:
            member = Member(email_key=row.email_key, **_member_values(row))
            members[row.email_key] = member
            new_members.append(member)
            outcomes[line] = "created"
        else:
            outcomes[line] = "updated" if _update_member(member, row) else "unchanged"
    session.add_all(new_members)
    await session.flush()  # one multi-row INSERT; memberships need the new ids

    changed_members = await _sync_memberships(
        session, [(members[row.email_key], row) for _, row in good if row.community], community_ids
    )
    for line, row in good:
        if outcomes[line] == "unchanged" and members[row.email_key].id in changed_members:
            outcomes[line] = "updated"
    return list(outcomes.values()), sorted(errors, key=lambda error: error["line"])


def _member_values(row: MemberRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in MEMBER_FIELDS if getattr(row, name) is not None}


def _update_member(member: Member, row: MemberRow) -> bool:
    changes = {name: value for name, value in _member_values(row).items()
               if getattr(member, name) != value}
    for name, value in changes.items():
        setattr(member, name, value)
    return bool(changes)


async def _community_ids(session: AsyncSession, slugs: set[str]) -> dict[str, int]:
    if not slugs:
        return {}
    query = select(Community.slug, Community.id).where(col(Community.slug).in_(slugs))
    return dict((await session.exec(query)).all())


async def _members_by_email_key(session: AsyncSession, keys: set[str]) -> dict[str, Member]:
    if not keys:
        return {}
    query = select(Member).where(col(Member.email_key).in_(keys))
    return {member.email_key: member for member in (await session.exec(query)).all()}


async def _sync_memberships(
    session: AsyncSession, pairs: list[tuple[Member, MemberRow]], community_ids: dict[str, int]
) -> set[int]:
    """Creates missing memberships and applies a role or joined_at the file gives. Returns the ids
    of members whose memberships changed."""
    wanted = {(member.id, community_ids[row.community]): row for member, row in pairs}
    if not wanted:
        return set()
    query = select(Membership).where(
        tuple_(col(Membership.member_id), col(Membership.community_id)).in_(list(wanted))
    )
    existing = {(m.member_id, m.community_id): m for m in (await session.exec(query)).all()}
    changed: set[int] = set()
    for (member_id, community_id), row in wanted.items():
        membership = existing.get((member_id, community_id))
        if membership is None:
            session.add(Membership(member_id=member_id, community_id=community_id,
                                   role=row.role or MembershipRole.member,
                                   joined_at=row.joined_at or utcnow()))
            changed.add(member_id)
            continue
        for name in ("role", "joined_at"):
            value = getattr(row, name)
            if value is not None and getattr(membership, name) != value:
                setattr(membership, name, value)
                changed.add(member_id)
    return changed


async def _finish(
    job_id: int, status: JobStatus, reason: str | None = None, *, from_statuses: tuple = ACTIVE
) -> None:
    async with session_scope() as session:
        finished = await session.exec(
            update(Job).where(col(Job.id) == job_id, col(Job.status).in_(from_statuses))
            .values(status=status, finished_at=utcnow())
        )
        if finished.rowcount == 1 and reason:
            job = await session.get(Job, job_id, options=[WITHOUT_PAYLOAD])
            job.errors = [*job.errors, {"line": None, "reason": reason}]


async def _after_crash(job_id: int) -> None:
    """Queued again for the sweep to retry (it resumes after the last committed batch), or failed
    once it has had its attempts."""
    async with session_scope() as session:
        requeued = await session.exec(
            update(Job)
            .where(col(Job.id) == job_id, col(Job.status) == JobStatus.running,
                   col(Job.attempts) < MAX_ATTEMPTS)
            .values(status=JobStatus.queued)
        )
    if requeued.rowcount == 0:
        await _finish(job_id, JobStatus.failed, GIVE_UP_REASON, from_statuses=(JobStatus.running,))
