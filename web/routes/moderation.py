"""The moderation queue: open reports first, members reported more than once flagged and
gathered, the selected report beside the queue with its member's moderation history, and the
moderators' actions (resolve by dismissing, warning, suspending until a date or banning, with a
note; reinstate). Everyone with `moderation:read` sees the queue; only `moderation:write`
(moderators, admins) gets the actions."""

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request

from services.api.moderation.schemas import ReportReason, ReportStatus, Resolution
from web.client import ApiClient
from web.forms import PAGE_SIZE, FormSpec, FormState, filter_list, submit_form
from web.inline import back_with_notice
from web.rendering import is_htmx, redirect, render
from web.session import ApiDep

router = APIRouter(prefix="/moderation")
FILTERS = FormSpec(fields=("status", "reason", "subject_member_id"))
RESOLVE_FORM = FormSpec(fields=("action", "note", "until"), optional=frozenset({"until"}))
REINSTATE_FORM = FormSpec(fields=("note",))
CHOICES = {"statuses": list(ReportStatus), "reasons": list(ReportReason),
           "actions": list(Resolution)}
# Tells the queue beside the report to redraw itself: a resolution changes its order and flags.
CHANGED = {"HX-Trigger": "moderation-changed"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _until(body: dict[str, Any]) -> dict[str, Any]:
    """The form picks a day; the API takes a moment: the suspension ends as that day begins,
    in UTC. Anything else goes as typed, for the API to judge."""
    until = body.get("until")
    if until and _DATE.fullmatch(until):
        body["until"] = f"{until}T00:00:00+00:00"
    return body


async def _detail(api: ApiClient, report_id: int) -> dict[str, Any]:
    report = await api.get_report(report_id)
    history = await api.moderation_history(report.subject_member_id, limit=PAGE_SIZE)
    return {"report": report, "history": history}


def _forms(resolve: FormState | None = None, reinstate: FormState | None = None):
    return {"resolve_form": resolve or FormState({"action": Resolution.dismiss}),
            "reinstate_form": reinstate or FormState()}


@router.get("")
async def queue(request: Request, api: ApiDep, report: int | None = None):
    """The queue, and the report chosen in it (`report`) beside it; htmx asks only for the
    queue, after a filter, a page or a resolution."""
    (page, filters), subjects = await asyncio.gather(
        filter_list(request, FILTERS, api.list_reports),
        api.list_reported_members(limit=PAGE_SIZE))
    wants_detail = report is not None and not is_htmx(request)
    detail = await _detail(api, report) if wants_detail else {"report": None}
    return render(request, "moderation/queue.html",
                  {"page": page, "filters": filters, "subjects": subjects.items,
                   "selected": report, **detail, **_forms(), **CHOICES},
                  fragment="results", status_code=filters.status_code)


@router.get("/reports/{report_id}")
async def report_detail(request: Request, api: ApiDep, report_id: int):
    if not is_htmx(request):
        return redirect(request, f"/moderation?report={report_id}")
    return render(request, "moderation/queue.html",
                  {**await _detail(api, report_id), **_forms(), **CHOICES}, fragment="detail")


async def _act(request: Request, api: ApiClient, report_id: int, spec: FormSpec,
               send: Callable[[dict[str, Any]], Awaitable[Any]], form_name: str, done: str):
    """Resolve or reinstate; htmx gets the report and the member's history back, as they are
    now, with a refusal beside the form that asked."""
    result, form = await submit_form(request, spec, send)
    if not is_htmx(request):
        return back_with_notice(request, form, done, f"/moderation?report={report_id}")
    return render(request, "moderation/queue.html",
                  {**await _detail(api, report_id), **_forms(**{form_name: form}), **CHOICES},
                  fragment="detail", status_code=form.status_code,
                  headers=CHANGED if result is not None else None)


@router.post("/reports/{report_id}/resolve")
async def resolve(request: Request, api: ApiDep, report_id: int):
    return await _act(request, api, report_id, RESOLVE_FORM,
                      lambda body: api.resolve_report(report_id, _until(body)),
                      "resolve", "Report resolved.")


@router.post("/reports/{report_id}/reinstate")
async def reinstate(request: Request, api: ApiDep, report_id: int):
    """Lifts the sanction of the report's subject, from where the moderator is looking."""
    subject_id = (await api.get_report(report_id)).subject_member_id
    return await _act(request, api, report_id, REINSTATE_FORM,
                      lambda body: api.reinstate_member(subject_id, body),
                      "reinstate", "Member reinstated.")
