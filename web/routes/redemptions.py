"""The redemptions queue: requested ones first (the default view), approve, reject with a reason
and fulfil, each answered by htmx with the updated row."""

from typing import Literal

from fastapi import APIRouter, Request

from services.api.redemptions.schemas import RedemptionStatus
from web import session
from web.client import ApiError
from web.forms import FormSpec, FormState, filter_list
from web.rendering import is_htmx, redirect, render
from web.session import ApiDep

router = APIRouter(prefix="/redemptions")
FILTERS = FormSpec(fields=("status",))
REJECT_FORM = FormSpec(fields=("reason",))
QUEUE = "/redemptions?status=requested"


@router.get("")
async def queue(request: Request, api: ApiDep):
    if "status" not in request.query_params:
        # What needs a decision comes first; "Any" (status=) shows the whole history.
        return redirect(request, QUEUE)
    page, filters = await filter_list(request, FILTERS, api.list_redemptions)
    return render(request, "redemptions/list.html",
                  {"page": page, "filters": filters, "statuses": list(RedemptionStatus),
                   "reject_form": FormState()},
                  fragment="results", status_code=filters.status_code)


@router.post("/{redemption_id}/{action}")
async def decide(request: Request, api: ApiDep, redemption_id: int,
                 action: Literal["approve", "reject", "fulfil"]):
    values = REJECT_FORM.read(await request.form())
    form = FormState()
    try:
        redemption = await api.decide_redemption(
            redemption_id, action, REJECT_FORM.body(values) if action == "reject" else None)
    except ApiError as error:
        form = FormState.refused(REJECT_FORM, values, error)
        redemption = await api.get_redemption(redemption_id)
    if not is_htmx(request):
        # Without JavaScript: back to the queue, with the refusal (if any) as its notice.
        if form.errors:
            session.flash(request, " ".join(form.errors.values()))
        return redirect(request, session.local_path(request.headers.get("Referer") or QUEUE))
    return render(request, "redemptions/list.html",
                  {"redemption": redemption, "reject_form": form},
                  fragment="row", status_code=form.status_code)
