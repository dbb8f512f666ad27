"""The rewards catalogue: list (active or withdrawn), create, edit, deactivate and offer again."""

from fastapi import APIRouter, Request

from services.api.rewards.schemas import RewardRead
from web import session
from web.forms import FormSpec, filter_list
from web.rendering import redirect, render
from web.routes.catalogue import CatalogueForm
from web.session import ApiDep

router = APIRouter(prefix="/rewards")
WRITE = "rewards:write"
FILTERS = FormSpec(fields=("active",))
REWARD_FORM = FormSpec(
    fields=("name", "description", "cost_points", "stock", "per_member_limit",
            "requires_approval"),
    optional=frozenset({"description", "stock", "per_member_limit"}),
)


def _values_of(reward: RewardRead) -> dict[str, str]:
    values = REWARD_FORM.values_of(reward)
    # The checkbox compares with the API's spelling of booleans.
    values["requires_approval"] = str(reward.requires_approval).lower()
    return values


@router.get("")
async def list_rewards(request: Request, api: ApiDep):
    page, filters = await filter_list(request, FILTERS, api.list_rewards)
    return render(request, "rewards/list.html", {"page": page, "filters": filters},
                  fragment="results", status_code=filters.status_code)


CatalogueForm(entry="reward", path="/rewards", spec=REWARD_FORM, permission=WRITE,
              defaults={"requires_approval": "false"},
              created=lambda reward: f"Reward “{reward.name}” added.",
              values_of=_values_of).add_routes(router)


@router.post("/{reward_id}/deactivate")
async def deactivate_reward(request: Request, api: ApiDep, reward_id: int):
    reward = await api.deactivate_reward(reward_id)
    session.flash(request, f"“{reward.name}” is no longer offered.")
    return redirect(request, "/rewards")


@router.post("/{reward_id}/reactivate")
async def reactivate_reward(request: Request, api: ApiDep, reward_id: int):
    reward = await api.reactivate_reward(reward_id)
    session.flash(request, f"“{reward.name}” is offered again.")
    return redirect(request, "/rewards")
