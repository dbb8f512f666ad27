"""Tiers: the list (lowest threshold first), create and edit."""

from functools import partial

from fastapi import APIRouter, Request

from web import session
from web.forms import FormSpec, FormState, submit_form
from web.rendering import redirect, render
from web.session import ApiDep

router = APIRouter(prefix="/tiers")
WRITE = "rewards:write"
TIER_FORM = FormSpec(fields=("name", "min_lifetime_points", "multiplier", "perks"),
                     lists=frozenset({"perks"}))
NEW_TIER = {"multiplier": "1"}


def _form_page(request: Request, form: FormState, tier=None):
    return render(request, "tiers/form.html", {"form": form, "tier": tier},
                  status_code=form.status_code)


@router.get("")
async def list_tiers(request: Request, api: ApiDep):
    # A program has a handful of tiers: one page of the maximum holds them all.
    tiers = await api.list_tiers(limit=500)
    return render(request, "tiers/list.html", {"tiers": tiers.items})


@router.get("/new")
async def new_tier(request: Request, _: ApiDep):
    session.require_permission(request, WRITE)
    return _form_page(request, FormState(dict(NEW_TIER)))


@router.post("/new")
async def create_tier(request: Request, api: ApiDep):
    tier, form = await submit_form(request, TIER_FORM, api.create_tier)
    if tier is None:
        return _form_page(request, form)
    session.flash(request, f"Tier “{tier.name}” created.")
    return redirect(request, "/tiers")


@router.get("/{tier_id}")
async def edit_tier(request: Request, api: ApiDep, tier_id: int):
    tier = await api.get_tier(tier_id)
    return _form_page(request, FormState(TIER_FORM.values_of(tier)), tier)


@router.post("/{tier_id}")
async def update_tier(request: Request, api: ApiDep, tier_id: int):
    tier, form = await submit_form(request, TIER_FORM, partial(api.update_tier, tier_id))
    if tier is None:
        return _form_page(request, form, await api.get_tier(tier_id))
    session.flash(request, "Changes saved.")
    return redirect(request, "/tiers")
