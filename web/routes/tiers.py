"""Tiers: the list (lowest threshold first), create and edit."""

from fastapi import APIRouter, Request

from web.forms import FormSpec
from web.rendering import render
from web.routes.catalogue import CatalogueForm
from web.session import ApiDep

router = APIRouter(prefix="/tiers")
WRITE = "rewards:write"
TIER_FORM = FormSpec(fields=("name", "min_lifetime_points", "multiplier", "perks"),
                     lists=frozenset({"perks"}))


@router.get("")
async def list_tiers(request: Request, api: ApiDep):
    # A program has a handful of tiers: one page of the maximum holds them all.
    tiers = await api.list_tiers(limit=500)
    return render(request, "tiers/list.html", {"tiers": tiers.items})


CatalogueForm(entry="tier", path="/tiers", spec=TIER_FORM, permission=WRITE,
              defaults={"multiplier": "1"},
              created=lambda tier: f"Tier “{tier.name}” created.").add_routes(router)
