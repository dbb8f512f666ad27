"""Members: the list (search, status, pages as htmx fragments), detail with memberships, create."""

from functools import partial

from fastapi import APIRouter, Request

from shared.models.enums import MembershipRole, MemberStatus
from web import session
from web.client import ApiClient
from web.forms import FormSpec, FormState, filter_list, submit_form
from web.rendering import redirect, render
from web.session import ApiDep

router = APIRouter(prefix="/members")
WRITE = "members:write"

FILTERS = FormSpec(fields=("q", "status"))
MEMBER_FORM = FormSpec(
    fields=("name", "email", "handle", "country", "timezone", "interests"),
    optional=frozenset({"handle", "country", "timezone"}),
    lists=frozenset({"interests"}),
)
MEMBERSHIP_FORM = FormSpec(fields=("community_id", "role"))
NEW_MEMBERSHIP = {"role": MembershipRole.member}


@router.get("")
async def list_members(request: Request, api: ApiDep):
    page, filters = await filter_list(request, FILTERS, api.list_members)
    return render(request, "members/list.html",
                  {"page": page, "filters": filters, "statuses": list(MemberStatus)},
                  fragment="results", status_code=filters.status_code)


@router.get("/new")
async def new_member(request: Request, _: ApiDep):
    session.require_permission(request, WRITE)
    return render(request, "members/form.html", {"form": FormState()})


@router.post("/new")
async def create_member(request: Request, api: ApiDep):
    member, form = await submit_form(request, MEMBER_FORM, api.create_member)
    if member is None:
        return render(request, "members/form.html", {"form": form},
                      status_code=form.status_code)
    session.flash(request, f"Member “{member.name}” created.")
    return redirect(request, f"/members/{member.id}")


async def _member_page(request: Request, api: ApiClient, member_id: int, form: FormState):
    member = await api.get_member(member_id)
    memberships = await api.list_memberships(member_id)
    # The add-membership form offers communities by name; only those who may add need them.
    communities = (await api.list_communities(limit=500)).items if session.can(request, WRITE) \
        else []
    return render(
        request, "members/detail.html",
        {"member": member, "memberships": memberships.items, "membership_form": form,
         "communities": [(str(c.id), c.name) for c in communities],
         "roles": list(MembershipRole)},
        fragment="memberships", status_code=form.status_code,
    )


@router.get("/{member_id}")
async def member_detail(request: Request, api: ApiDep, member_id: int):
    return await _member_page(request, api, member_id, FormState(dict(NEW_MEMBERSHIP)))


@router.post("/{member_id}/memberships")
async def add_membership(request: Request, api: ApiDep, member_id: int):
    add = partial(api.add_membership, member_id)
    membership, form = await submit_form(request, MEMBERSHIP_FORM, add)
    if membership is None:
        return await _member_page(request, api, member_id, form)
    session.flash(request, f"Added to {membership.community_name} as {membership.role}.")
    return redirect(request, f"/members/{member_id}")
