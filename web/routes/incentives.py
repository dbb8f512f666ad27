"""Incentives: the list, create (the fields of the chosen kind only), edit with the version
history, and a preview of what the incentive would award (a job, polled like an import)."""

from typing import Any

from fastapi import APIRouter, Request

from services.api.incentives.schemas import IncentiveDetail
from shared.rules.terms import CapPeriod, IncentiveKind, IncentiveStatus
from web import session
from web.client import ApiClient, ApiError
from web.forms import FormSpec, FormState, filter_list, submit_form
from web.rendering import redirect, render
from web.routes.imports import FINISHED
from web.session import ApiDep

router = APIRouter(prefix="/incentives")
WRITE = "incentives:write"

FILTERS = FormSpec(fields=("status", "kind"))
# The fields only some kinds have; the API refuses a field of another kind.
KIND_FIELDS = {IncentiveKind.points_rule: ("cap_max", "cap_per"),
               IncentiveKind.milestone: ("count",), IncentiveKind.first_n: ("n",),
               IncentiveKind.referral: ()}
INCENTIVE_FORM = FormSpec(
    fields=("name", "kind", "activity_kind", "points", "status", "starts_at", "ends_at",
            "community_ids", "cap_max", "cap_per", "count", "n"),
    optional=frozenset({"starts_at", "ends_at", "cap_max", "cap_per", "count", "n"}),
    lists=frozenset({"community_ids"}),
)
# What an edit may change: the kind and the activity kind are fixed once created.
FIXED = ("kind", "activity_kind")
NEW_INCENTIVE = {"kind": IncentiveKind.points_rule, "status": IncentiveStatus.active}
# Whole UTC days: the API wants instants, people pick dates.
PREVIEW_FORM = FormSpec(fields=("start", "end"))


def incentive_body(body: dict[str, Any], kind: str) -> dict[str, Any]:
    """The form's flat fields as the API's body for `kind`: its own fields only, the cap as
    one object, no community filter when none is listed."""
    for name in ("cap_max", "cap_per", "count", "n"):
        if name not in KIND_FIELDS.get(kind, ()):
            body.pop(name)
    if kind == IncentiveKind.points_rule:
        cap_max, cap_per = body.pop("cap_max"), body.pop("cap_per")
        body["cap"] = {"max": cap_max, "per": cap_per} if cap_max else None
    body["community_ids"] = body["community_ids"] or None
    return body


async def _send(call):
    """Sends an incentive body; the API names a cap's refusal by the nested object (`cap`, then
    `max` or `per`), while the form has one field for each: the message goes next to it."""
    try:
        return await call
    except ApiError as error:
        for problem in error.errors:
            loc = [str(part) for part in problem.get("loc", [])]
            if "cap" in loc and loc[-1] in ("max", "per"):
                message = error.field_errors.pop("cap", None) or str(problem.get("msg", ""))
                error.field_errors.setdefault(f"cap_{loc[-1]}", message)
        raise


def _values_of(incentive: IncentiveDetail) -> dict[str, str]:
    values = INCENTIVE_FORM.values_of(incentive)
    if incentive.cap:
        values.update(cap_max=str(incentive.cap.max), cap_per=incentive.cap.per)
    return values


async def _form_page(request: Request, api: ApiClient, form: FormState,
                     incentive: IncentiveDetail | None = None,
                     preview_form: FormState | None = None):
    kinds = await api.list_activity_kinds()
    preview_form = preview_form or FormState()
    return render(request, "incentives/form.html",
                  {"form": form, "incentive": incentive, "kinds": list(IncentiveKind),
                   "kind": form.values.get("kind") or (incentive and incentive.kind),
                   "kind_fields": KIND_FIELDS, "statuses": list(IncentiveStatus),
                   "cap_periods": list(CapPeriod),
                   "activity_kinds": [(k.key, k.name) for k in kinds.items],
                   "preview_form": preview_form},
                  fragment="form", status_code=max(form.status_code, preview_form.status_code))


@router.get("")
async def list_incentives(request: Request, api: ApiDep):
    page, filters = await filter_list(request, FILTERS, api.list_incentives)
    return render(request, "incentives/list.html",
                  {"page": page, "filters": filters, "statuses": list(IncentiveStatus),
                   "kinds": list(IncentiveKind)},
                  fragment="results", status_code=filters.status_code)


@router.get("/new")
async def new_incentive(request: Request, api: ApiDep):
    """Changing the kind asks this again with what was typed, to show that kind's fields."""
    session.require_permission(request, WRITE)
    typed = {name: value for name, value in INCENTIVE_FORM.read(request.query_params).items()
             if value}
    return await _form_page(request, api, FormState({**NEW_INCENTIVE, **typed}))


@router.post("/new")
async def create_incentive(request: Request, api: ApiDep):
    async def create(body: dict[str, Any]):
        return await _send(api.create_incentive(incentive_body(body, body["kind"])))

    incentive, form = await submit_form(request, INCENTIVE_FORM, create)
    if incentive is None:
        return await _form_page(request, api, form)
    session.flash(request, f"Incentive “{incentive.name}” created.")
    return redirect(request, f"/incentives/{incentive.id}")


@router.get("/{incentive_id}")
async def edit_incentive(request: Request, api: ApiDep, incentive_id: int):
    """Read-only staff see the same page without the save button."""
    incentive = await api.get_incentive(incentive_id)
    return await _form_page(request, api, FormState(_values_of(incentive)), incentive)


@router.post("/{incentive_id}")
async def update_incentive(request: Request, api: ApiDep, incentive_id: int):
    current = await api.get_incentive(incentive_id)

    async def update(body: dict[str, Any]):
        body = incentive_body(body, current.kind)
        for name in FIXED:
            body.pop(name)
        if body["status"] == current.status:
            body.pop("status")  # not a status move
        return await _send(api.update_incentive(incentive_id, body))

    incentive, form = await submit_form(request, INCENTIVE_FORM, update)
    if incentive is None:
        return await _form_page(request, api, form, current)
    session.flash(request, "Changes saved.")
    return redirect(request, f"/incentives/{incentive_id}")


@router.post("/{incentive_id}/preview")
async def start_preview(request: Request, api: ApiDep, incentive_id: int):
    async def start(body: dict[str, str]):
        period = {name: f"{day}T00:00:00+00:00" if day else day for name, day in body.items()}
        return await api.preview_incentive(incentive_id, period)

    job, form = await submit_form(request, PREVIEW_FORM, start)
    if job is None:
        incentive = await api.get_incentive(incentive_id)
        return await _form_page(request, api, FormState(_values_of(incentive)), incentive, form)
    return redirect(request, f"/incentives/{incentive_id}/previews/{job.id}")


@router.get("/{incentive_id}/previews/{job_id}")
async def preview_page(request: Request, api: ApiDep, incentive_id: int, job_id: int):
    incentive, job = await api.get_incentive(incentive_id), await api.get_job(job_id)
    return render(request, "incentives/preview.html",
                  {"incentive": incentive, "job": job, "finished": job.status in FINISHED},
                  fragment="progress")
