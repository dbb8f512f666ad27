"""Communities: the list (search, filters, pages as htmx fragments), detail, create and edit."""

from functools import partial

from fastapi import APIRouter, Request

from shared.models.enums import CommunityKind, CommunityStatus
from web import session
from web.forms import FormSpec, FormState, filter_list, submit_form
from web.rendering import redirect, render
from web.session import ApiDep

router = APIRouter(prefix="/communities")
WRITE = "communities:write"

FILTERS = FormSpec(fields=("q", "kind", "country", "status"))
COMMUNITY_FORM = FormSpec(
    fields=("name", "slug", "kind", "status", "city", "country", "timezone", "description",
            "tags", "code_of_conduct_url"),
    optional=frozenset({"city", "country", "description", "code_of_conduct_url"}),
    lists=frozenset({"tags"}),
)
NEW_COMMUNITY = {"kind": CommunityKind.offline, "status": CommunityStatus.active,
                 "timezone": "UTC"}
CHOICES = {"kinds": list(CommunityKind), "statuses": list(CommunityStatus)}


def _form_page(request: Request, form: FormState, community=None):
    return render(request, "communities/form.html",
                  {"form": form, "community": community, **CHOICES},
                  status_code=form.status_code)


@router.get("")
async def list_communities(request: Request, api: ApiDep):
    page, filters = await filter_list(request, FILTERS, api.list_communities)
    return render(request, "communities/list.html",
                  {"page": page, "filters": filters, **CHOICES},
                  fragment="results", status_code=filters.status_code)


@router.get("/new")
async def new_community(request: Request, _: ApiDep):
    session.require_permission(request, WRITE)
    return _form_page(request, FormState(dict(NEW_COMMUNITY)))


@router.post("/new")
async def create_community(request: Request, api: ApiDep):
    community, form = await submit_form(request, COMMUNITY_FORM, api.create_community)
    if community is None:
        return _form_page(request, form)
    session.flash(request, f"Community “{community.name}” created.")
    return redirect(request, f"/communities/{community.id}")


@router.get("/{community_id}")
async def community_detail(request: Request, api: ApiDep, community_id: int):
    community = await api.get_community(community_id)
    return render(request, "communities/detail.html", {"community": community})


@router.get("/{community_id}/edit")
async def edit_community(request: Request, api: ApiDep, community_id: int):
    session.require_permission(request, WRITE)
    community = await api.get_community(community_id)
    return _form_page(request, FormState(COMMUNITY_FORM.values_of(community)), community)


@router.post("/{community_id}/edit")
async def update_community(request: Request, api: ApiDep, community_id: int):
    update = partial(api.update_community, community_id)
    community, form = await submit_form(request, COMMUNITY_FORM, update)
    if community is None:
        return _form_page(request, form, await api.get_community(community_id))
    session.flash(request, "Changes saved.")
    return redirect(request, f"/communities/{community_id}")
