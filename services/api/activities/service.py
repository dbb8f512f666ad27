"""Storing activities, one or 5,000 at a time. Whatever the batch, the work is a fixed number of
queries: one lookup each for its members, communities and kinds, one multi-row
INSERT … ON CONFLICT DO NOTHING, and one lookup of the replays' ids. Points are not decided here:
the worker does that for every activity still pending (see services/worker/rewards.py)."""

from collections import Counter, defaultdict
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from services.api.activities import repository
from services.api.activities.schemas import (
    ActivityCreate,
    ActivityPage,
    ActivityRead,
    ActivityState,
    BulkActivities,
    BulkItemStatus,
    BulkResult,
)
from services.api.activity_kinds.repository import known_keys
from services.api.errors import NotFoundError, ProblemError
from services.api.pagination import PageParams, make_page
from shared.activity_queue import ActivityKey, insert_activities
from shared.models import Activity, Member
from shared.models.base import utcnow
from shared.rules.calendar import UTC_ZONE, local_buckets


def _error(field: str, msg: str, type_: str) -> dict[str, Any]:
    return {"loc": [field], "msg": msg, "type": type_}


def invalid_body(errors: list[dict[str, Any]]) -> ProblemError:
    """A 422 like FastAPI's own, for what only the database can check (a row that does not exist);
    `errors` locate fields within the body."""
    errors = [{**error, "loc": ["body", *error["loc"]]} for error in errors]
    return ProblemError(422, "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in errors),
                        type_="validation-error", errors=errors)


def _result(index: int, status: BulkItemStatus, id_: int | None = None,
            errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A BulkItemResult as a dict: 5,000 of them are validated in one call at the end."""
    return {"index": index, "status": status, "id": id_, "errors": errors or []}


async def _store(
    session: AsyncSession, items: list[tuple[int, ActivityCreate]]
) -> list[dict[str, Any]]:
    """Stores the valid (index, item) pairs whose references exist; one result per pair."""
    members = await repository.existing_ids(session, Member.id,
                                            {item.member_id for _, item in items})
    zones = await repository.community_zones(
        session, {item.community_id for _, item in items if item.community_id is not None})
    kinds = await known_keys(session, {item.kind for _, item in items})

    received_at = utcnow()
    results: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    keyed: list[tuple[int, ActivityKey]] = []
    for index, item in items:
        errors = []
        if item.member_id not in members:
            errors.append(_error("member_id", f"member {item.member_id} does not exist",
                                 "not_found"))
        if item.community_id is not None and item.community_id not in zones:
            errors.append(_error("community_id", f"community {item.community_id} does not exist",
                                 "not_found"))
        if item.kind not in kinds:
            errors.append(_error("kind", f"{item.kind!r} is not an activity kind "
                                         "(see GET /v1/activity-kinds)", "unknown_kind"))
        if errors:
            results.append(_result(index, BulkItemStatus.rejected, errors=errors))
            continue
        zone = zones[item.community_id] if item.community_id is not None else UTC_ZONE
        day, week, month = local_buckets(item.occurred_at, zone)
        rows.append({**item.model_dump(), "local_day": day, "local_week": week,
                     "local_month": month, "received_at": received_at})
        keyed.append((index, (item.source, item.external_id)))

    new = await insert_activities(session, rows)
    stored_before = await repository.ids_by_key(session, {key for _, key in keyed} - new.keys())
    claimed: set[ActivityKey] = set()
    for index, key in keyed:
        # Only the first item with a new key was stored now; a repeat of it in the same request
        # is a replay like any other.
        if key in new and key not in claimed:
            claimed.add(key)
            results.append(_result(index, BulkItemStatus.accepted, new[key]))
        else:
            results.append(_result(index, BulkItemStatus.duplicate,
                                   new.get(key) or stored_before[key]))
    return results


async def create_activity(session: AsyncSession, body: ActivityCreate) -> tuple[int, ActivityRead]:
    """201 with the activity when it is new; 200 with the stored one for a replay of its
    (source, external_id), whatever else the replay says."""
    [result] = await _store(session, [(0, body)])
    if result["status"] == BulkItemStatus.rejected:
        raise invalid_body(result["errors"])
    activity = await session.get(Activity, result["id"])
    status = 201 if result["status"] == BulkItemStatus.accepted else 200
    return status, ActivityRead.model_validate(activity)


# The items of a bulk request, validated by one call into pydantic-core rather than one per item.
_ITEMS = TypeAdapter(list[ActivityCreate])


def _validate_items(raw_items: list[dict[str, Any]]) -> tuple[
        list[tuple[int, ActivityCreate]], list[dict[str, Any]]]:
    """(index, item) for the valid items, and a rejected result for each invalid one. One pass
    over the list when all are valid (the usual case); otherwise a second over the valid ones."""
    try:
        return list(enumerate(_ITEMS.validate_python(raw_items))), []
    except ValidationError as exc:
        errors: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for e in exc.errors():
            index, *loc = e["loc"]
            errors[index].append({"loc": loc, "msg": e["msg"], "type": e["type"]})
    valid_indexes = [index for index in range(len(raw_items)) if index not in errors]
    items = _ITEMS.validate_python([raw_items[index] for index in valid_indexes])
    return (list(zip(valid_indexes, items, strict=True)),
            [_result(index, BulkItemStatus.rejected, errors=errors[index]) for index in errors])


async def create_bulk(session: AsyncSession, body: BulkActivities) -> tuple[int, BulkResult]:
    valid, results = _validate_items(body.items)
    results += await _store(session, valid)
    results.sort(key=lambda result: result["index"])
    counts = Counter(result["status"] for result in results)
    return 200, BulkResult.model_validate({
        "accepted": counts[BulkItemStatus.accepted],
        "duplicates": counts[BulkItemStatus.duplicate],
        "rejected": counts[BulkItemStatus.rejected], "items": results})


async def get_activity(session: AsyncSession, activity_id: int) -> Activity:
    activity = await session.get(Activity, activity_id)
    if activity is None:
        raise NotFoundError("Activity", activity_id)
    return activity


async def list_activities(
    session: AsyncSession, params: PageParams, *, state: ActivityState | None, **filters
) -> ActivityPage:
    processed = None if state is None else state == ActivityState.processed
    rows = await repository.list_activities(session, params, processed=processed, **filters)
    items, cursor = make_page(rows, params)
    return ActivityPage(items=[ActivityRead.model_validate(a) for a in items], next_cursor=cursor)
