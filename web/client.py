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
    AccessLinkPage,
    AccessLinkRead,
    AccessLinksRevoked,
    AdvocatePage,
    AdvocateRead,
    LedgerEntryRead,
    LedgerPage,
)
from services.api.auth.schemas import TokenRead, WhoAmI
from services.api.communities.schemas import CommunityPage, CommunityRead
from services.api.events.schemas import (
    AttendancePage,
    CheckInResult,
    CsvCheckInResult,
    EventPage,
    EventRead,
)
from services.api.feedback.schemas import FeedbackPage, FeedbackRead
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
from services.api.moderation.schemas import MemberHistory, ReportPage, ReportRead, SubjectPage
from services.api.redemptions.schemas import RedemptionPage, RedemptionRead
from services.api.report_runs.schemas import ReportRunPage, ReportRunRead
from services.api.rewards.schemas import RewardPage, RewardRead
from services.api.tiers.schemas import TierPage, TierRead
from shared.metrics.schemas import (
    EngagementReport,
    GrowthReport,
    HealthReport,
    ImpactRelevanceReport,
    InfluenceReport,
)
from shared.rules.terms import IncentiveKind

Model = TypeVar("Model", bound=BaseModel)


class ApiError(Exception):
    """The API refused a request (4xx): its problem details, with validation errors by field."""

    def __init__(self, status: int, detail: str, field_errors: Mapping[str, str] | None = None,
                 errors: list[Mapping[str, Any]] | None = None):
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        # Field name -> message; "" holds errors that name no field (e.g. the body as a whole).
        self.field_errors = dict(field_errors or {})
        # The problem's validation errors as sent ({loc, msg, type}), for a form whose fields
        # stand for parts of a nested object (an incentive's cap).
        self.errors = list(errors or [])

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
    errors = problem.get("errors")
    return ApiError(response.status_code, detail, _field_errors(problem),
                    errors if isinstance(errors, list) else None)


def _checked(method: str, path: str, response: httpx.Response) -> httpx.Response:
    """The response if the API accepted the request; its refusal or failure as an exception."""
    if response.status_code >= 500:
        raise ApiUnavailable(f"{method} {path}: {response.status_code}")
    if response.status_code >= 400:
        raise _api_error(response)
    return response


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

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self._http.request(method, path, headers=self._headers(), **kwargs)
        except httpx.TransportError as exc:
            raise ApiUnavailable(f"{method} {path}: {exc!r}") from exc
        return _checked(method, path, response)

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

    async def list_access_links(self, advocate_id: int,
                                **params: str | int | None) -> AccessLinkPage:
        return await self._get(f"/v1/advocates/{advocate_id}/access-links", AccessLinkPage,
                               **params)

    async def revoke_access_link(self, advocate_id: int, link_id: int) -> AccessLinksRevoked:
        return await self._write("POST",
                                 f"/v1/advocates/{advocate_id}/access-links/{link_id}/revoke",
                                 AccessLinksRevoked, None)

    async def change_advocate_status(self, advocate_id: int, action: str) -> AdvocateRead:
        """`action`: pause, resume or remove."""
        return await self._write("POST", f"/v1/advocates/{advocate_id}/{action}", AdvocateRead,
                                 None)

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

    async def reactivate_reward(self, reward_id: int) -> RewardRead:
        return await self.update_reward(reward_id, {"active": True})

    # Activities
    async def list_activities(self, **filters: str | int | None) -> ActivityPage:
        return await self._get("/v1/activities", ActivityPage, **filters)

    async def list_activity_kinds(self) -> ActivityKindPage:
        # A few dozen kinds at most: one page of the maximum holds them all.
        return await self._get("/v1/activity-kinds", ActivityKindPage, limit=500)

    # Feedback
    async def list_feedback(self, **filters: str | int | None) -> FeedbackPage:
        return await self._get("/v1/feedback", FeedbackPage, **filters)

    async def get_feedback(self, feedback_id: int) -> FeedbackRead:
        return await self._get(f"/v1/feedback/{feedback_id}", FeedbackRead)

    async def update_feedback(self, feedback_id: int, body: dict[str, Any]) -> FeedbackRead:
        """A status change, a staff answer or both."""
        return await self._write("PATCH", f"/v1/feedback/{feedback_id}", FeedbackRead, body)

    async def my_feedback(self, **params: str | int | None) -> FeedbackPage:
        """With an advocate's link: the feedback they gave."""
        return await self._get("/v1/me/feedback", FeedbackPage, **params)

    # Moderation
    async def list_reports(self, **filters: str | int | None) -> ReportPage:
        return await self._get("/v1/moderation/reports", ReportPage, **filters)

    async def get_report(self, report_id: int) -> ReportRead:
        return await self._get(f"/v1/moderation/reports/{report_id}", ReportRead)

    async def resolve_report(self, report_id: int, body: dict[str, Any]) -> ReportRead:
        return await self._write("POST", f"/v1/moderation/reports/{report_id}/resolve",
                                 ReportRead, body)

    async def list_reported_members(self, **filters: str | int | None) -> SubjectPage:
        """Members with open reports, the most reported first."""
        return await self._get("/v1/moderation/subjects", SubjectPage, **filters)

    async def moderation_history(self, member_id: int,
                                 **params: str | int | None) -> MemberHistory:
        return await self._get(f"/v1/moderation/members/{member_id}/history", MemberHistory,
                               **params)

    async def reinstate_member(self, member_id: int, body: dict[str, Any]) -> MemberHistory:
        return await self._write("POST", f"/v1/moderation/members/{member_id}/reinstate",
                                 MemberHistory, body)

    # Reports
    async def engagement_report(self, **params: str | int | None) -> EngagementReport:
        return await self._get("/v1/reports/engagement", EngagementReport, **params)

    async def impact_relevance_report(self, **params: str | int | None) -> ImpactRelevanceReport:
        return await self._get("/v1/reports/impact-relevance", ImpactRelevanceReport, **params)

    async def health_report(self, **params: str | int | None) -> HealthReport:
        return await self._get("/v1/reports/health", HealthReport, **params)

    async def growth_report(self, **params: str | int | None) -> GrowthReport:
        return await self._get("/v1/reports/growth", GrowthReport, **params)

    async def influence_report(self, **params: str | int | None) -> InfluenceReport:
        return await self._get("/v1/reports/influence", InfluenceReport, **params)

    async def list_report_runs(self, **filters: str | int | None) -> ReportRunPage:
        return await self._get("/v1/reports/runs", ReportRunPage, **filters)

    async def get_report_run(self, run_id: int) -> ReportRunRead:
        return await self._get(f"/v1/reports/runs/{run_id}", ReportRunRead)

    async def start_report_run(self, body: dict[str, Any]) -> ReportRunRead:
        return await self._write("POST", "/v1/reports/runs", ReportRunRead, body)

    async def open_download(self, path: str,
                            params: list[tuple[str, str]]) -> httpx.Response:
        """A file (a CSV export) as an open stream, for the web to pass on without holding it
        whole; the caller closes it. A refusal is read and raised like any other."""
        request = self._http.build_request("GET", path, params=params, headers=self._headers())
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise ApiUnavailable(f"GET {path}: {exc!r}") from exc
        if response.status_code >= 400:
            await response.aread()
            await response.aclose()
        return _checked("GET", path, response)

    # Events
    async def list_events(self, **filters: str | int | None) -> EventPage:
        return await self._get("/v1/events", EventPage, **filters)

    async def get_event(self, event_id: int) -> EventRead:
        return await self._get(f"/v1/events/{event_id}", EventRead)

    async def create_event(self, body: dict[str, Any]) -> EventRead:
        return await self._write("POST", "/v1/events", EventRead, body)

    async def update_event(self, event_id: int, body: dict[str, Any]) -> EventRead:
        return await self._write("PATCH", f"/v1/events/{event_id}", EventRead, body)

    async def cancel_event(self, event_id: int, body: dict[str, Any]) -> EventRead:
        return await self._write("POST", f"/v1/events/{event_id}/cancel", EventRead, body)

    async def check_in(self, event_id: int, member_id: int) -> CheckInResult:
        """Checked in now, or before (then nothing changes): the result's status says which."""
        return await self._write("POST", f"/v1/events/{event_id}/attendance", CheckInResult,
                                 {"member_id": member_id})

    async def checked_in_among(self, event_id: int, member_ids: list[int]) -> set[int]:
        """Which of these members are already checked in (the door screen marks them)."""
        if not member_ids:
            return set()
        response = await self._send("GET", f"/v1/events/{event_id}/attendance",
                                    params={"member_id": member_ids, "limit": len(member_ids)})
        return {row.member_id for row in AttendancePage.model_validate(response.json()).items}

    async def check_in_csv(self, event_id: int, filename: str,
                           content: bytes) -> CsvCheckInResult:
        files = {"file": (filename or "attendees.csv", content, "text/csv")}
        response = await self._send("POST", f"/v1/events/{event_id}/attendance/csv",
                                    files=files)
        return CsvCheckInResult.model_validate(response.json())
