"""Advocates: the list (status and tier filters, sorts, htmx pages), enrolling a member, and the
detail with balance, tier progress, the ledger, hand adjustments, pausing, resuming and removing,
and the personal access links (issue, list, revoke)."""

from collections.abc import Awaitable
from functools import partial
from typing import Literal

from fastapi import APIRouter, Request

from services.api.advocates.schemas import AdvocateSort, AdvocateStatus
from web import session
from web.client import ApiClient, ApiError
from web.forms import PAGE_SIZE, FormSpec, FormState, filter_list, submit_form
from web.rendering import redirect, render
from web.session import ApiDep

router = APIRouter(prefix="/advocates")
WRITE = "advocates:write"

FILTERS = FormSpec(fields=("status", "tier_id", "sort"))
ENROL_FORM = FormSpec(fields=("member_id",))
MEMBER_SEARCH = FormSpec(fields=("q",))
ADJUST_FORM = FormSpec(fields=("points", "reason"))
SORTS = [(AdvocateSort.id, "Enrolment"), (AdvocateSort.balance, "Balance"),
         (AdvocateSort.lifetime_points, "Lifetime points")]


@router.get("")
async def list_advocates(request: Request, api: ApiDep):
    page, filters = await filter_list(request, FILTERS, api.list_advocates)
    tiers = await api.list_tiers(limit=500)
    return render(request, "advocates/list.html",
                  {"page": page, "filters": filters, "statuses": list(AdvocateStatus),
                   "tiers": tiers.items, "sorts": SORTS},
                  fragment="results", status_code=filters.status_code)


async def _enrol_page(request: Request, api: ApiClient, form: FormState):
    """Members found by the search, each with an Enrol button."""
    found, search = await filter_list(request, MEMBER_SEARCH, api.list_members)
    return render(request, "advocates/enrol.html",
                  {"found": found, "search": search, "form": form},
                  fragment="found", status_code=form.status_code)


@router.get("/new")
async def enrol_page(request: Request, api: ApiDep):
    session.require_permission(request, WRITE)
    return await _enrol_page(request, api, FormState())


@router.post("/new")
async def enrol(request: Request, api: ApiDep):
    advocate, form = await submit_form(request, ENROL_FORM, api.enrol_advocate)
    if advocate is None:
        return await _enrol_page(request, api, form)
    session.flash(request, f"{advocate.name} is now an advocate.")
    return redirect(request, f"/advocates/{advocate.id}")


async def _advocate_page(request: Request, api: ApiClient, advocate_id: int, *,
                         adjust_form: FormState | None = None, link=None, fragment=None,
                         refusal: ApiError | None = None):
    """`refusal`: the API's answer to a status change or revocation, shown above the actions."""
    advocate = await api.get_advocate(advocate_id)
    ledger = await api.advocate_ledger(advocate_id, limit=PAGE_SIZE)
    links = await api.list_access_links(advocate_id, limit=PAGE_SIZE)
    adjust_form = adjust_form or FormState()
    return render(request, "advocates/detail.html",
                  {"advocate": advocate, "ledger": ledger, "adjust_form": adjust_form,
                   "link": link, "links": links, "refusal": refusal},
                  fragment=fragment,
                  status_code=refusal.status if refusal else adjust_form.status_code)


@router.get("/{advocate_id}")
async def advocate_detail(request: Request, api: ApiDep, advocate_id: int):
    return await _advocate_page(request, api, advocate_id)


@router.get("/{advocate_id}/ledger")
async def more_ledger(request: Request, api: ApiDep, advocate_id: int, cursor: str):
    ledger = await api.advocate_ledger(advocate_id, cursor=cursor, limit=PAGE_SIZE)
    return render(request, "advocates/ledger.html",
                  {"ledger": ledger, "more_url": f"/advocates/{advocate_id}/ledger",
                   "back_url": f"/advocates/{advocate_id}", "back": "Advocate"},
                  fragment="entries")


@router.post("/{advocate_id}/adjustments")
async def adjust(request: Request, api: ApiDep, advocate_id: int):
    entry, form = await submit_form(request, ADJUST_FORM, partial(api.adjust_points, advocate_id))
    if entry is None:
        return await _advocate_page(request, api, advocate_id, adjust_form=form)
    session.flash(request, f"Adjusted by {entry.points:+d} points.")
    return redirect(request, f"/advocates/{advocate_id}")


@router.post("/{advocate_id}/access-link")
async def issue_access_link(request: Request, api: ApiDep, advocate_id: int):
    """The API shows the link once and keeps only its hash: so does this answer (never a
    redirect, which would lose it)."""
    try:
        link = await api.issue_access_link(advocate_id)
    except ApiError as error:
        if not error.is_about_input:
            raise
        return await _advocate_page(request, api, advocate_id, refusal=error)
    return await _advocate_page(request, api, advocate_id, link=link, fragment="access_link")


async def _act(request: Request, api: ApiClient, advocate_id: int, action: Awaitable,
               done: str):
    """Runs an action on the advocate: back to their page with `done` as the notice, or the
    page again with the API's refusal (say, the advocate was removed meanwhile)."""
    try:
        await action
    except ApiError as error:
        if not error.is_about_input:
            raise
        return await _advocate_page(request, api, advocate_id, refusal=error)
    session.flash(request, done)
    return redirect(request, f"/advocates/{advocate_id}")


STATUS_NOTICES = {"pause": "Paused: earns nothing and cannot redeem until resumed.",
                  "resume": "Resumed: earning and redeeming again.",
                  "remove": "Removed from the program; pending redemptions were cancelled and "
                            "refunded."}


@router.post("/{advocate_id}/{action}")
async def change_status(request: Request, api: ApiDep, advocate_id: int,
                        action: Literal["pause", "resume", "remove"]):
    return await _act(request, api, advocate_id, api.change_advocate_status(advocate_id, action),
                      STATUS_NOTICES[action])


@router.post("/{advocate_id}/access-links/{link_id}/revoke")
async def revoke_access_link(request: Request, api: ApiDep, advocate_id: int, link_id: int):
    return await _act(request, api, advocate_id, api.revoke_access_link(advocate_id, link_id),
                      "The access link no longer works.")
