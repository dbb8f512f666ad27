"""The web's only way to data: a typed client of the Hearth API. The web never opens the
database; every page is built from what this client returns, as the signed-in user."""

from collections.abc import Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel

# The API's response models are the wire contract; parsing into them keeps web and api in step.
from services.api.activities.schemas import ActivityPage
from services.api.activity_kinds.schemas import ActivityKindPage
from services.api.advocates.schemas import (
    AccessLinkRead,
    AdvocatePage,
    AdvocateRead,
    LedgerEntryRead,
    LedgerPage,
)
from services.api.auth.schemas import TokenRead, WhoAmI
from services.api.communities.schemas import CommunityPage, CommunityRead
from services.api.incentives.schemas import IncentiveDetail, IncentivePage
from services.api.jobs.schemas import JobRead
from services.api.me.schemas import MyRewardPage
from services.api.members.schemas import (
    ImportAccepted,
    MemberPage,
    MemberRead,
    MembershipPage,
    MembershipRead,
)
from services.api.redemptions.schemas import RedemptionPage, RedemptionRead
from services.api.rewards.schemas import RewardPage, RewardRead
from services.api.tiers.schemas import TierPage, TierRead
from shared.rules.terms import IncentiveKind

Model = TypeVar("Model", bound=BaseModel)


class ApiError(Exception):
    """The API refused a request (4xx): its problem details, with validation errors by field."""

    def __init__(self, status: int, detail: str, field_errors: Mapping[str, str] | None = None):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        # Field name -> message; "" holds errors that name no field (e.g. the body as a whole).
        self.field_errors = dict(field_errors or {})

    @property
    def is_about_input(self) -> bool:
        """A refusal of what the user typed, to be shown next to the fields, not as a page."""
        return self.status in (400, 409, 413, 422)


class ApiUnavailable(Exception):
    """The API did not answer, or failed with a 5xx: nothing the user can fix but waiting."""


def _message(msg: str) -> str:
    # Pydantic prefixes messages of custom validators; the user needs only the reason.
    return msg.removeprefix("Value error, ")


# A body of a tagged union (an incentive's kind) has its tag in the loc before the field's name.
UNION_TAGS = frozenset(IncentiveKind)


def _field_errors(problem: Mapping[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in problem.get("errors") or []:
        # loc is ["body", "tags", 0] or ["query", "country"]: the field is the first name after
        # where it came from; list positions and nested keys belong to that same form field.
        names = [str(part) for part in error.get("loc", [])
                 if part not in ("body", "query") and part not in UNION_TAGS]
        errors.setdefault(names[0] if names else "", _message(str(error.get("msg", ""))))
    # A conflict names its field (e.g. a taken slug) so the form can show it in place.
    if field := problem.get("field"):
        errors.setdefault(str(field), str(problem.get("detail", "")))
    return errors


def _api_error(response: httpx.Response) -> ApiError:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    detail = str(problem.get("detail") or response.reason_phrase)
    return ApiError(response.status_code, detail, _field_errors(problem))


def _query(params: Mapping[str, str | int | None]) -> dict[str, str | int]:
    """Blank filters mean "any": the API should not see them at all."""
    return {name: value for name, value in params.items() if value not in (None, "")}


class ApiClient:
    """One API conversation on behalf of one user (or nobody, for signing in). The underlying
    httpx client is shared by the whole app; tests give it an ASGI transport, not a network."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None):
        self._http = http
        self._token = token

    def as_user(self, token: str) -> "ApiClient":
        return ApiClient(self._http, token)

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise ApiUnavailable(f"{method} {path}: {exc!r}") from exc
        if response.status_code >= 500:
            raise ApiUnavailable(f"{method} {path}: {response.status_code}")
        if response.status_code >= 400:
            raise _api_error(response)
        return response

    async def _get(self, path: str, model: type[Model], **params: str | int | None) -> Model:
        response = await self._send("GET", path, params=_query(params))
        return model.model_validate(response.json())

    async def _write(self, method: str, path: str, model: type[Model], body: Any) -> Model:
        return model.model_validate((await self._send(method, path, json=body)).json())

    # Auth
    async def login(self, email: str, password: str) -> TokenRead:
        return await self._write("POST", "/v1/auth/login", TokenRead,
                                 {"email": email, "password": password})

    async def logout(self) -> None:
        await self._send("POST", "/v1/auth/logout")

    async def whoami(self) -> WhoAmI:
        return await self._get("/v1/auth/me", WhoAmI)

    # Communities
    async def list_communities(self, **filters: str | int | None) -> CommunityPage:
        return await self._get("/v1/communities", CommunityPage, **filters)

    async def get_community(self, community_id: int) -> CommunityRead:
        return await self._get(f"/v1/communities/{community_id}", CommunityRead)

    async def create_community(self, body: dict[str, Any]) -> CommunityRead:
        return await self._write("POST", "/v1/communities", CommunityRead, body)

    async def update_community(self, community_id: int, body: dict[str, Any]) -> CommunityRead:
        return await self._write("PATCH", f"/v1/communities/{community_id}", CommunityRead, body)

    # Members
    async def list_members(self, **filters: str | int | None) -> MemberPage:
        return await self._get("/v1/members", MemberPage, **filters)

    async def get_member(self, member_id: int) -> MemberRead:
        return await self._get(f"/v1/members/{member_id}", MemberRead)

    async def create_member(self, body: dict[str, Any]) -> MemberRead:
        return await self._write("POST", "/v1/members", MemberRead, body)

    async def list_memberships(self, member_id: int) -> MembershipPage:
        # A member belongs to a handful of communities; one page of the maximum shows them all.
        return await self._get(f"/v1/members/{member_id}/memberships", MembershipPage, limit=500)

    async def add_membership(self, member_id: int, body: dict[str, Any]) -> MembershipRead:
        return await self._write("POST", f"/v1/members/{member_id}/memberships",
                                 MembershipRead, body)

    async def import_members(self, filename: str, content: bytes) -> ImportAccepted:
        files = {"file": (filename or "members.csv", content, "text/csv")}
        response = await self._send("POST", "/v1/members/import", files=files)
        return ImportAccepted.model_validate(response.json())

    # Jobs
    async def get_job(self, job_id: int) -> JobRead:
        return await self._get(f"/v1/jobs/{job_id}", JobRead)

    # Advocates
    async def list_advocates(self, **filters: str | int | None) -> AdvocatePage:
        return await self._get("/v1/advocates", AdvocatePage, **filters)

    async def get_advocate(self, advocate_id: int) -> AdvocateRead:
        return await self._get(f"/v1/advocates/{advocate_id}", AdvocateRead)

    async def enrol_advocate(self, body: dict[str, Any]) -> AdvocateRead:
        return await self._write("POST", "/v1/advocates", AdvocateRead, body)

    async def advocate_ledger(self, advocate_id: int, **params: str | int | None) -> LedgerPage:
        return await self._get(f"/v1/advocates/{advocate_id}/ledger", LedgerPage, **params)

    async def adjust_points(self, advocate_id: int, body: dict[str, Any]) -> LedgerEntryRead:
        return await self._write("POST", f"/v1/advocates/{advocate_id}/adjustments",
                                 LedgerEntryRead, body)

    async def issue_access_link(self, advocate_id: int) -> AccessLinkRead:
        return await self._write("POST", f"/v1/advocates/{advocate_id}/access-link",
                                 AccessLinkRead, None)

    # The advocate's own view, with the token of their access link
    async def me(self) -> AdvocateRead:
        return await self._get("/v1/me", AdvocateRead)

    async def my_ledger(self, **params: str | int | None) -> LedgerPage:
        return await self._get("/v1/me/ledger", LedgerPage, **params)

    async def my_rewards(self, **params: str | int | None) -> MyRewardPage:
        return await self._get("/v1/me/rewards", MyRewardPage, **params)

    async def my_redemptions(self, **params: str | int | None) -> RedemptionPage:
        return await self._get("/v1/me/redemptions", RedemptionPage, **params)

    async def redeem(self, reward_id: int) -> RedemptionRead:
        return await self._write("POST", "/v1/me/redemptions", RedemptionRead,
                                 {"reward_id": reward_id})

    async def cancel_my_redemption(self, redemption_id: int) -> RedemptionRead:
        return await self._write("POST", f"/v1/me/redemptions/{redemption_id}/cancel",
                                 RedemptionRead, None)

    # Redemptions
    async def list_redemptions(self, **filters: str | int | None) -> RedemptionPage:
        return await self._get("/v1/redemptions", RedemptionPage, **filters)

    async def get_redemption(self, redemption_id: int) -> RedemptionRead:
        return await self._get(f"/v1/redemptions/{redemption_id}", RedemptionRead)

    async def decide_redemption(self, redemption_id: int, action: str,
                                body: dict[str, Any] | None = None) -> RedemptionRead:
        """`action`: approve, reject (with a reason), fulfil or cancel."""
        return await self._write("POST", f"/v1/redemptions/{redemption_id}/{action}",
                                 RedemptionRead, body)

    # Incentives
    async def list_incentives(self, **filters: str | int | None) -> IncentivePage:
        return await self._get("/v1/incentives", IncentivePage, **filters)

    async def get_incentive(self, incentive_id: int) -> IncentiveDetail:
        return await self._get(f"/v1/incentives/{incentive_id}", IncentiveDetail)

    async def create_incentive(self, body: dict[str, Any]) -> IncentiveDetail:
        return await self._write("POST", "/v1/incentives", IncentiveDetail, body)

    async def update_incentive(self, incentive_id: int, body: dict[str, Any]) -> IncentiveDetail:
        return await self._write("PATCH", f"/v1/incentives/{incentive_id}", IncentiveDetail, body)

    async def preview_incentive(self, incentive_id: int, body: dict[str, Any]) -> JobRead:
        return await self._write("POST", f"/v1/incentives/{incentive_id}/preview", JobRead, body)

    # Tiers
    async def list_tiers(self, **params: str | int | None) -> TierPage:
        return await self._get("/v1/tiers", TierPage, **params)

    async def get_tier(self, tier_id: int) -> TierRead:
        return await self._get(f"/v1/tiers/{tier_id}", TierRead)

    async def create_tier(self, body: dict[str, Any]) -> TierRead:
        return await self._write("POST", "/v1/tiers", TierRead, body)

    async def update_tier(self, tier_id: int, body: dict[str, Any]) -> TierRead:
        return await self._write("PATCH", f"/v1/tiers/{tier_id}", TierRead, body)

    # Rewards
    async def list_rewards(self, **filters: str | int | None) -> RewardPage:
        return await self._get("/v1/rewards", RewardPage, **filters)

    async def get_reward(self, reward_id: int) -> RewardRead:
        return await self._get(f"/v1/rewards/{reward_id}", RewardRead)

    async def create_reward(self, body: dict[str, Any]) -> RewardRead:
        return await self._write("POST", "/v1/rewards", RewardRead, body)

    async def update_reward(self, reward_id: int, body: dict[str, Any]) -> RewardRead:
        return await self._write("PATCH", f"/v1/rewards/{reward_id}", RewardRead, body)

    async def deactivate_reward(self, reward_id: int) -> RewardRead:
        return await self._write("POST", f"/v1/rewards/{reward_id}/deactivate", RewardRead, None)

    # Activities
    async def list_activities(self, **filters: str | int | None) -> ActivityPage:
        return await self._get("/v1/activities", ActivityPage, **filters)

    async def list_activity_kinds(self) -> ActivityKindPage:
        # A few dozen kinds at most: one page of the maximum holds them all.
        return await self._get("/v1/activity-kinds", ActivityKindPage, limit=500)
