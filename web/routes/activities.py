"""The activity feed: the latest activities with member, kind, community and what the worker
decided, filtered by kind and state; htmx appends the next ones ("Load more")."""

import asyncio

from fastapi import APIRouter, Request

from services.api.activities.schemas import ActivityState
from shared.rules.terms import ActivityOutcome
from web.forms import FormSpec, filter_list
from web.rendering import render
from web.session import ApiDep

router = APIRouter(prefix="/activities")
FILTERS = FormSpec(fields=("kind", "state", "outcome"))


@router.get("")
async def feed(request: Request, api: ApiDep):
    page, filters = await filter_list(request, FILTERS, api.list_activities)
    kinds, communities = await asyncio.gather(api.list_activity_kinds(),
                                              api.list_communities(limit=500))
    # Activities carry member ids only; a page names at most PAGE_SIZE members.
    member_ids = sorted({activity.member_id for activity in page.items}) if page else []
    members = await asyncio.gather(*(api.get_member(member_id) for member_id in member_ids))
    # A cursor asks for the rows after the ones shown: htmx appends them to the table.
    fragment = "rows" if request.query_params.get("cursor") else "results"
    return render(request, "activities/list.html",
                  {"page": page, "filters": filters, "kinds": kinds.items,
                   "states": list(ActivityState), "outcomes": list(ActivityOutcome),
                   "community_names": {c.id: c.name for c in communities.items},
                   "member_names": {m.id: m.name for m in members}},
                  fragment=fragment, status_code=filters.status_code)
