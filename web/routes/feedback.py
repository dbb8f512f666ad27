"""The feedback board: filters (kind, status, community, event), newest or most voted first, in
htmx pages; staff with `feedback:write` (moderators, managers) move the status along and answer
in place, the others only read."""

import asyncio
from typing import Literal

from fastapi import APIRouter, Request

from services.api.feedback.schemas import TRANSITIONS, FeedbackKind, FeedbackSort, FeedbackStatus
from web.client import ApiClient
from web.forms import FormSpec, FormState, filter_list, submit_form
from web.inline import back_with_notice
from web.rendering import is_htmx, render
from web.session import ApiDep

router = APIRouter(prefix="/feedback")
FILTERS = FormSpec(fields=("kind", "status", "community_id", "event_id", "sort"))
ACTIONS = {"status": FormSpec(fields=("status",)),
           "answer": FormSpec(fields=("staff_response",))}
DONE = {"status": "Status changed.", "answer": "Answer saved."}
CHOICES = {
    "kinds": list(FeedbackKind),
    "statuses": list(FeedbackStatus),
    "sorts": [(FeedbackSort.created_at, "Newest first"), (FeedbackSort.votes, "Most votes")],
    # The web offers only the moves the API allows; the API still decides (it may have moved).
    "transitions": TRANSITIONS,
}


async def _community_names(api: ApiClient) -> dict[int, str]:
    # Communities number in the hundreds: one page of the maximum names them all.
    return {c.id: c.name for c in (await api.list_communities(limit=500)).items}


@router.get("")
async def board(request: Request, api: ApiDep):
    (page, filters), names = await asyncio.gather(
        filter_list(request, FILTERS, api.list_feedback), _community_names(api))
    return render(request, "feedback/board.html",
                  {"page": page, "filters": filters, "community_names": names,
                   "form": FormState(), **CHOICES},
                  fragment="results", status_code=filters.status_code)


@router.post("/{feedback_id}/{action}")
async def act(request: Request, api: ApiDep, feedback_id: int,
              action: Literal["status", "answer"]):
    """A move or an answer; htmx gets the item back, refused or not."""
    feedback, form = await submit_form(request, ACTIONS[action],
                                       lambda body: api.update_feedback(feedback_id, body))
    if feedback is None:
        # Refused, perhaps because someone moved it meanwhile: the item shows it as it is now.
        feedback = await api.get_feedback(feedback_id)
    if not is_htmx(request):
        return back_with_notice(request, form, DONE[action], "/feedback")
    return render(request, "feedback/board.html",
                  {"feedback": feedback, "form": form,
                   "community_names": await _community_names(api), **CHOICES},
                  fragment="item", status_code=form.status_code)
