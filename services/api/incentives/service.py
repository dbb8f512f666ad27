"""Incentives and their versions. Terms never change under activities already received: editing
an active (or paused) incentive closes its current version and opens the next from now on."""

from typing import Any

from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.activities.repository import existing_ids
from services.api.activities.service import invalid_body
from services.api.activity_kinds.repository import known_keys
from services.api.auth.principal import Principal
from services.api.errors import ConflictError, NotFoundError
from services.api.incentives import repository
from services.api.incentives.schemas import (
    MODEL_FOR_KIND,
    TERM_FIELDS,
    IncentiveCreate,
    IncentiveDetail,
    IncentivePage,
    IncentiveRead,
    IncentiveUpdate,
    IncentiveVersionPage,
    IncentiveVersionRead,
    PeriodRequest,
    RescoreRequest,
)
from services.api.pagination import PageParams, make_page
from shared.models import Community, Incentive, IncentiveVersion, Job, Tier
from shared.models.base import utcnow
from shared.models.enums import JobKind
from shared.rules.terms import IncentiveKind, IncentiveStatus, VersionTerms

TRANSITIONS: dict[IncentiveStatus, set[IncentiveStatus]] = {
    IncentiveStatus.draft: {IncentiveStatus.active},
    IncentiveStatus.active: {IncentiveStatus.paused, IncentiveStatus.ended},
    IncentiveStatus.paused: {IncentiveStatus.active, IncentiveStatus.ended},
    IncentiveStatus.ended: set(),
}


def _terms(version: IncentiveVersion) -> dict[str, Any]:
    """A version's terms as the flat fields of the request bodies."""
    return {"activity_kind": version.activity_kind, "points": version.points,
            "starts_at": version.starts_at, "ends_at": version.ends_at, **version.terms}


def _version_fields(terms: dict[str, Any]) -> dict[str, Any]:
    """Request-body terms as IncentiveVersion columns."""
    return {"activity_kind": terms["activity_kind"], "points": terms["points"],
            "starts_at": terms.get("starts_at"), "ends_at": terms.get("ends_at"),
            "terms": VersionTerms.model_validate(
                {name: terms[name] for name in VersionTerms.model_fields if name in terms}
            ).to_json()}


def _read(incentive: Incentive, version: IncentiveVersion) -> IncentiveRead:
    return IncentiveRead.model_validate({**incentive.model_dump(), **_terms(version)})


def _version_read(version: IncentiveVersion) -> IncentiveVersionRead:
    return IncentiveVersionRead.model_validate({**version.model_dump(), **_terms(version)})


async def _refuse_unknown_references(session: AsyncSession, terms: dict[str, Any]) -> None:
    kind = terms["activity_kind"]
    if not await known_keys(session, [kind]):
        raise invalid_body([{"loc": ["activity_kind"], "type": "unknown_kind",
                             "msg": f"{kind!r} is not an activity kind "
                                    "(see GET /v1/activity-kinds)"}])
    for field, column, what in (("community_ids", Community.id, "community"),
                                ("tier_ids", Tier.id, "tier")):
        wanted = set(terms.get(field) or ())
        missing = sorted(wanted - await existing_ids(session, column, wanted))
        if missing:
            raise invalid_body([{"loc": [field], "type": "not_found",
                                 "msg": f"no {what} has the id {missing[0]}"}])


async def _get(session: AsyncSession, incentive_id: int) -> Incentive:
    incentive = await session.get(Incentive, incentive_id)
    if incentive is None:
        raise NotFoundError("Incentive", incentive_id)
    return incentive


async def _detail(session: AsyncSession, incentive: Incentive) -> IncentiveDetail:
    versions = await repository.versions(session, incentive.id)
    current = next(v for v in versions if v.version == incentive.version)
    return IncentiveDetail(**_read(incentive, current).model_dump(),
                           versions=[_version_read(v) for v in versions])


async def create_incentive(
    session: AsyncSession, body: IncentiveCreate, principal: Principal
) -> IncentiveDetail:
    terms = body.model_dump(include=set(TERM_FIELDS))
    await _refuse_unknown_references(session, terms)
    incentive = Incentive(name=body.name, kind=body.kind, status=body.status)
    session.add(incentive)
    await session.flush()
    session.add(IncentiveVersion(incentive_id=incentive.id, version=1,
                                 created_by_id=principal.staff_user_id, **_version_fields(terms)))
    await session.flush()
    return await _detail(session, incentive)


async def get_incentive(session: AsyncSession, incentive_id: int) -> IncentiveDetail:
    return await _detail(session, await _get(session, incentive_id))


async def list_incentives(session: AsyncSession, params: PageParams, **filters) -> IncentivePage:
    rows = await repository.list_incentives(session, params, **filters)
    items, cursor = make_page([incentive for incentive, _ in rows], params)
    versions = {incentive.id: version for incentive, version in rows}
    return IncentivePage(items=[_read(i, versions[i.id]) for i in items], next_cursor=cursor)


async def list_versions(
    session: AsyncSession, incentive_id: int, params: PageParams
) -> IncentiveVersionPage:
    await _get(session, incentive_id)
    items, cursor = make_page(await repository.versions(session, incentive_id, params), params)
    return IncentiveVersionPage(items=[_version_read(v) for v in items], next_cursor=cursor)


async def update_incentive(
    session: AsyncSession, incentive_id: int, body: IncentiveUpdate, principal: Principal
) -> IncentiveDetail:
    incentive = await _get(session, incentive_id)
    version = await repository.current_version(session, incentive)
    changes = body.model_dump(exclude_unset=True)
    status = changes.pop("status", None)
    if "name" in changes:
        incentive.name = changes.pop("name")
    if changes:
        await _change_terms(session, incentive, version, changes, principal)
    if status is not None and status != incentive.status:
        version = await repository.current_version(session, incentive)
        _move(incentive, version, IncentiveStatus(status))
    incentive.updated_at = utcnow()
    session.add(incentive)
    await session.flush()
    return await _detail(session, incentive)


async def _change_terms(
    session: AsyncSession,
    incentive: Incentive,
    version: IncentiveVersion,
    changes: dict[str, Any],
    principal: Principal,
) -> None:
    if incentive.status == IncentiveStatus.ended:
        raise ConflictError("An ended incentive's terms cannot change; create a new incentive.")
    current = _terms(version)
    # The whole new set of terms is checked as a creation of this kind would be; a field of
    # another kind is refused as unknown.
    try:
        merged = MODEL_FOR_KIND[IncentiveKind(incentive.kind)].model_validate(
            {"name": incentive.name, "kind": incentive.kind, **current, **changes})
    except ValidationError as exc:
        raise invalid_body([{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                            for e in exc.errors()]) from exc
    terms = merged.model_dump(include=set(TERM_FIELDS))
    fields = _version_fields(terms)
    if fields == _version_fields(current):
        return
    await _refuse_unknown_references(session, terms)
    if incentive.status == IncentiveStatus.draft:
        # Nothing was ever scored by a draft: its one version is rewritten in place.
        for name, value in fields.items():
            setattr(version, name, value)
        session.add(version)
        return
    now = utcnow()
    version.effective_to = now
    incentive.version += 1
    session.add_all([version, IncentiveVersion(
        incentive_id=incentive.id, version=incentive.version, effective_from=now,
        created_by_id=principal.staff_user_id, **fields)])


def _move(incentive: Incentive, version: IncentiveVersion, status: IncentiveStatus) -> None:
    current = IncentiveStatus(incentive.status)
    if status not in TRANSITIONS[current]:
        raise ConflictError(f"An incentive cannot go from {current} to {status}.",
                            current_status=current)
    if current == IncentiveStatus.draft:
        # A draft's terms come into force when it is activated, not when it was written.
        version.effective_from = utcnow()
    incentive.status = status


async def _start_job(
    session: AsyncSession, kind: JobKind, incentive_id: int, body: PeriodRequest,
    principal: Principal,
) -> Job:
    job = Job(kind=kind, created_by_id=principal.staff_user_id,
              params={"incentive_id": incentive_id, "start": body.start.isoformat(),
                      "end": body.end.isoformat()})
    session.add(job)
    await session.flush()
    return job


async def start_preview(
    session: AsyncSession, incentive_id: int, body: PeriodRequest, principal: Principal
) -> Job:
    """A preview job: what the incentive's current terms would award over past activities."""
    await _get(session, incentive_id)
    return await _start_job(session, JobKind.incentive_preview, incentive_id, body, principal)


async def start_rescore(
    session: AsyncSession, incentive_id: int, body: RescoreRequest, principal: Principal
) -> Job:
    incentive = await _get(session, incentive_id)
    if incentive.status == IncentiveStatus.draft:
        raise ConflictError("A draft has never been in force; activate it before rescoring.",
                            current_status=incentive.status)
    kind = JobKind.incentive_preview if body.dry_run else JobKind.incentive_rescore
    return await _start_job(session, kind, incentive_id, body, principal)
