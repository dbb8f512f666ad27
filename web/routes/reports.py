"""Reports: the program's dashboard (relevance and impact, growth, activity per community), a
community's report, the stored report runs with their progress, and CSV exports proxied from the
API (the browser has no API token, so the web fetches the file as the user and streams it on)."""

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.exceptions import HTTPException

from services.api.communities.schemas import CommunityRead
from shared.metrics.schemas import (
    EngagementReport,
    GrowthReport,
    ImpactRelevanceReport,
    InfluenceReport,
)
from shared.models.reports import ReportKind, ReportRunStatus
from web import session
from web.charts import (
    BarChart,
    BarInput,
    QuadrantChart,
    ScatterInput,
    SeriesInput,
    bar_chart,
    line_chart,
    quadrant_chart,
)
from web.client import ApiClient, ApiError
from web.forms import PAGE_SIZE, FormSpec
from web.rendering import redirect, render
from web.session import ApiDep

router = APIRouter(prefix="/reports")

# Up to about four months a line per week reads well; longer periods go by month.
WEEKLY_UP_TO_DAYS = 120
DEFAULT_DAYS = 30
WRITE = "reports:write"
PROGRAM_RUNS = [("impact_relevance", "Relevance and impact")]
COMMUNITY_RUNS = [("engagement", "Engagement"), ("health", "Health"), ("growth", "Growth"),
                  ("influence", "Influence")]
RUN_FORM = FormSpec(fields=("kind", "community_id", "start", "end"),
                    optional=frozenset({"community_id"}))
RECENT_RUNS = 10
FINISHED = (ReportRunStatus.done, ReportRunStatus.failed)


@dataclass(frozen=True)
class Period:
    """The report period as the picker sent it: raw text, because the API is the one that judges
    dates (a malformed or reversed period comes back as its refusal, shown on the page)."""

    start: str
    end: str

    @classmethod
    def from_query(cls, request: Request) -> "Period":
        today = datetime.now(UTC).date()
        start = request.query_params.get("start") or str(today - timedelta(DEFAULT_DAYS - 1))
        return cls(start.strip(), (request.query_params.get("end") or str(today)).strip())

    @property
    def interval(self) -> str:
        try:
            days = (date.fromisoformat(self.end) - date.fromisoformat(self.start)).days
        except ValueError:
            return "month"
        return "week" if days <= WEEKLY_UP_TO_DAYS else "month"

    @property
    def query(self) -> str:
        return urlencode({"start": self.start, "end": self.end})

    @property
    def window_query(self) -> str:
        """The period as the row exports filter: instants, the end exclusive (the next day's
        midnight), so "to 31 Oct" includes all of 31 Oct."""
        try:
            start = date.fromisoformat(self.start)
            end = date.fromisoformat(self.end) + timedelta(1)
        except ValueError:
            return self.query  # the API names what is wrong with it
        return urlencode({"start": f"{start}T00:00:00+00:00", "end": f"{end}T00:00:00+00:00"})


def presets(today: date | None = None) -> list[tuple[str, Period]]:
    """The periods a person picks most, offered as plain links next to the date fields."""
    today = today or datetime.now(UTC).date()
    return [
        ("Last 30 days", Period(str(today - timedelta(29)), str(today))),
        ("Last 90 days", Period(str(today - timedelta(89)), str(today))),
        ("Last 12 months", Period(str(today.replace(year=today.year - 1) + timedelta(1)),
                                  str(today))),
        ("This year", Period(str(today.replace(month=1, day=1)), str(today))),
    ]


def community_report_url(community_id: int, period: Period) -> str:
    return f"/reports/communities/{community_id}?{period.query}"


def impact_quadrant(impact: ImpactRelevanceReport, period: Period) -> QuadrantChart:
    """Each community a point, linking to its report for the same period."""
    return quadrant_chart([
        ScatterInput(item.name, item.relevance, item.impact,
                     community_report_url(item.community_id, period))
        for item in impact.items])


def program_exports(period: Period) -> list[tuple[str, str]]:
    """(link, text) of every CSV the dashboard offers, for the picked period."""
    return [
        (export_url("reports/impact-relevance.csv", period.query),
         "Relevance and impact, this period"),
        (export_url("reports/engagement.csv", period.query), "Engagement of the program"),
        (export_url("reports/growth.csv", f"{period.query}&interval={period.interval}"),
         "Growth of the program"),
        (export_url("reports/influence.csv", period.query), "Influence across the program"),
        (export_url("members.csv"), "All members"),
        (export_url("activities.csv", period.window_query), "Activities, this period"),
        (export_url("ledger.csv", period.window_query), "Points ledger, this period"),
    ]


def community_exports(community: CommunityRead, period: Period) -> list[tuple[str, str]]:
    scope = f"community_id={community.id}"
    return [
        (export_url("reports/engagement.csv", f"{scope}&{period.query}"), "Engagement"),
        (export_url("reports/health.csv", f"{scope}&as_of={period.end}"), "Health"),
        (export_url("reports/growth.csv", f"{scope}&{period.query}&interval={period.interval}"),
         "Growth"),
        (export_url("reports/influence.csv", f"{scope}&{period.query}"), "Influence"),
        (export_url("members.csv", scope), f"Members of {community.name}"),
        (export_url("activities.csv", f"{scope}&{period.window_query}"),
         "Activities, this period"),
    ]


def export_url(name: str, query: str = "") -> str:
    """The web's own address of an API export (see `export` below)."""
    return f"/reports/exports/{name}" + (f"?{query}" if query else "")


def growth_charts(growth: GrowthReport) -> dict[str, Any]:
    """Growth against engagement over the period's weeks or months: members joining and members
    active in one chart (both counts of people), activities per active member in another."""
    label_format = "%d %b" if growth.interval == "week" else "%b %Y"
    labels = [bucket.start.strftime(label_format) for bucket in growth.buckets]
    buckets = growth.buckets
    return {
        "members": line_chart(labels, [
            SeriesInput("New members", [bucket.new_members for bucket in buckets]),
            SeriesInput("Active members", [bucket.active_members for bucket in buckets]),
        ], y_label="Members", integer=True),
        "per_member": line_chart(labels, [
            SeriesInput("Activities per active member",
                        [bucket.activities_per_active_member for bucket in buckets]),
        ], y_label="Activities per member"),
    }


async def _refusal_or(reports: Awaitable[dict[str, Any]]) -> dict[str, Any] | ApiError:
    try:
        return await reports
    except ApiError as error:
        if not error.is_about_input:
            raise
        return error


async def report_page(request: Request, template: str, context: dict[str, Any],
                      reports: Awaitable[dict[str, Any]], runs: Awaitable[Any]):
    """A report page for the picked period, with the stored runs (which do not depend on it). A
    period the API refuses (malformed, reversed) is shown as the picker's error in the API's
    words; any other refusal is an error page."""
    outcome, context["runs"] = await asyncio.gather(_refusal_or(reports), runs)
    status_code = 200
    if isinstance(outcome, ApiError):
        context["errors"] = dict(outcome.field_errors) or {"": outcome.detail}
        status_code = outcome.status
    else:
        context.update(outcome)
    return render(request, template, context, fragment="report", status_code=status_code)


async def program_reports(api: ApiClient, period: Period) -> dict[str, Any]:
    impact, growth = await asyncio.gather(
        api.impact_relevance_report(start=period.start, end=period.end),
        api.growth_report(start=period.start, end=period.end, interval=period.interval))
    by_activity = sorted(impact.items, key=lambda item: (-item.inputs.activities, item.name))
    return {
        "impact": impact, "growth": growth,
        "quadrant": impact_quadrant(impact, period),
        "activity": bar_chart([
            BarInput(item.name, item.inputs.activities,
                     community_report_url(item.community_id, period))
            for item in by_activity], value_label="Activities in the period", integer=True),
        **growth_charts(growth),
    }


@router.get("")
async def dashboard(request: Request, api: ApiDep):
    period = Period.from_query(request)
    context = {"period": period, "presets": presets(), "errors": {},
               "run_kinds": PROGRAM_RUNS, "exports": program_exports(period)}
    return await report_page(request, "reports/dashboard.html", context,
                             program_reports(api, period),
                             api.list_report_runs(kind="impact_relevance", limit=RECENT_RUNS))


ENGAGEMENT_FIGURES = (
    ("members", "Members"), ("new_members", "New members"), ("active_members", "Active members"),
    ("active_posters", "Active posters"), ("activities", "Activities"), ("events", "Events"),
    ("attendance", "Attendance"), ("feedback_count", "Feedback"),
    ("mean_rating", "Mean rating"), ("median_first_response_hours", "Median first response"),
)


def engagement_figures(report: EngagementReport) -> list[dict[str, Any]]:
    """Each figure with how it is computed: the API's own description of that field."""
    return [{"name": name, "label": label, "value": getattr(report, name),
             "explanation": EngagementReport.model_fields[name].description or ""}
            for name, label in ENGAGEMENT_FIGURES]


def influence_chart(influence: InfluenceReport) -> BarChart:
    return bar_chart([BarInput(ring.capitalize(), influence.ring_counts.get(ring, 0))
                      for ring in ("core", "regular", "casual")],
                     value_label="Members", integer=True)


async def community_reports(api: ApiClient, community_id: int, period: Period) -> dict[str, Any]:
    engagement, health, influence, growth = await asyncio.gather(
        api.engagement_report(community_id=community_id, start=period.start, end=period.end),
        api.health_report(community_id=community_id, as_of=period.end),
        api.influence_report(community_id=community_id, start=period.start, end=period.end),
        api.growth_report(community_id=community_id, start=period.start, end=period.end,
                          interval=period.interval))
    return {"engagement": engagement, "figures": engagement_figures(engagement),
            "health": health, "influence": influence, "rings": influence_chart(influence),
            "growth": growth, **growth_charts(growth)}


@router.get("/communities/{community_id}")
async def community_report(request: Request, api: ApiDep, community_id: int):
    period = Period.from_query(request)
    community = await api.get_community(community_id)
    context = {"period": period, "presets": presets(), "errors": {}, "community": community,
               "run_kinds": COMMUNITY_RUNS, "exports": community_exports(community, period)}
    return await report_page(request, "reports/community.html", context,
                             community_reports(api, community_id, period),
                             api.list_report_runs(community_id=community_id, limit=RECENT_RUNS))


# What the web passes on to /v1/exports: the CSV files only, never another API path.
EXPORTS = re.compile(r"(members|activities|ledger|reports/[a-z][a-z-]*)\.csv")


@router.get("/exports/{name:path}")
async def export(request: Request, api: ApiDep, name: str):
    if not EXPORTS.fullmatch(name):
        raise HTTPException(404)
    upstream = await api.open_download(f"/v1/exports/{name}",
                                         request.query_params.multi_items())
    headers = {"Content-Disposition": upstream.headers.get(
        "content-disposition", f'attachment; filename="{name.rsplit("/", 1)[-1]}"')}
    return StreamingResponse(_relay(upstream), headers=headers,
                             media_type=upstream.headers.get("content-type", "text/csv"))


async def _relay(upstream: httpx.Response) -> AsyncIterator[bytes]:
    """The API's file, chunk by chunk as it arrives; the connection to the API is closed even
    when the browser goes away halfway (a background task would not run then)."""
    try:
        async for chunk in upstream.aiter_bytes():
            yield chunk
    finally:
        await upstream.aclose()


# Stored runs -----------------------------------------------------------------------------------


@router.get("/runs")
async def list_runs(request: Request, api: ApiDep):
    runs = await api.list_report_runs(cursor=request.query_params.get("cursor"), limit=PAGE_SIZE)
    return render(request, "reports/runs.html", {"runs": runs}, fragment="results")


@router.post("/runs")
async def build_run(request: Request, api: ApiDep):
    session.require_permission(request, WRITE)
    values = RUN_FORM.read(await request.form())
    run = await api.start_report_run(RUN_FORM.body(values))
    return redirect(request, f"/reports/runs/{run.id}")


@router.get("/runs/{run_id}")
async def run_page(request: Request, api: ApiDep, run_id: int):
    run = await api.get_report_run(run_id)
    job = await api.get_job(run.job_id) if run.job_id else None
    quadrant = None
    if run.kind == ReportKind.impact_relevance and run.status == ReportRunStatus.done:
        # Drawn from the stored figures: the chart as it was, not as the data is now.
        stored = ImpactRelevanceReport.model_validate(run.result)
        quadrant = impact_quadrant(stored, Period(str(run.period_start), str(run.period_end)))
    return render(request, "reports/run.html",
                  {"run": run, "job": job, "finished": run.status in FINISHED,
                   "quadrant": quadrant}, fragment="progress")
