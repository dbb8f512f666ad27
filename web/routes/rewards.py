"""The rewards catalogue: list (active or withdrawn), create, edit and deactivate."""

from functools import partial

from fastapi import APIRouter, Request

from web import session
from web.forms import FormSpec, FormState, filter_list, submit_form
from web.rendering import redirect, render
from web.session import ApiDep

router = APIRouter(prefix="/rewards")
WRITE = "rewards:write"
FILTERS = FormSpec(fields=("active",))
REWARD_FORM = FormSpec(
    fields=("name", "description", "cost_points", "stock", "per_member_limit",
            "requires_approval"),
    optional=frozenset({"description", "stock", "per_member_limit"}),
)
NEW_REWARD = {"requires_approval": "false"}


def _form_page(request: Request, form: FormState, reward=None):
    return render(request, "rewards/form.html", {"form": form, "reward": reward},
                  status_code=form.status_code)


@router.get("")
async def list_rewards(request: Request, api: ApiDep):
    page, filters = await filter_list(request, FILTERS, api.list_rewards)
    return render(request, "rewards/list.html", {"page": page, "filters": filters},
                  fragment="results", status_code=filters.status_code)


@router.get("/new")
async def new_reward(request: Request, _: ApiDep):
    session.require_permission(request, WRITE)
    return _form_page(request, FormState(dict(NEW_REWARD)))


@router.post("/new")
async def create_reward(request: Request, api: ApiDep):
    reward, form = await submit_form(request, REWARD_FORM, api.create_reward)
    if reward is None:
        return _form_page(request, form)
    session.flash(request, f"Reward “{reward.name}” added.")
    return redirect(request, "/rewards")


@router.get("/{reward_id}")
async def edit_reward(request: Request, api: ApiDep, reward_id: int):
    reward = await api.get_reward(reward_id)
    values = REWARD_FORM.values_of(reward)
    # The checkbox compares with the API's spelling of booleans.
    values["requires_approval"] = str(reward.requires_approval).lower()
    return _form_page(request, FormState(values), reward)


@router.post("/{reward_id}")
async def update_reward(request: Request, api: ApiDep, reward_id: int):
    reward, form = await submit_form(request, REWARD_FORM, partial(api.update_reward, reward_id))
    if reward is None:
        return _form_page(request, form, await api.get_reward(reward_id))
    session.flash(request, "Changes saved.")
    return redirect(request, "/rewards")


@router.post("/{reward_id}/deactivate")
async def deactivate_reward(request: Request, api: ApiDep, reward_id: int):
    reward = await api.deactivate_reward(reward_id)
    session.flash(request, f"“{reward.name}” is no longer offered.")
    return redirect(request, "/rewards")
