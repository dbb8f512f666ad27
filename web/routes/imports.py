"""Member CSV import: the upload page, then the job's page with a live progress bar."""

from fastapi import APIRouter, Request

from shared.models.enums import JobStatus
from web import session
from web.client import ApiError
from web.forms import FormSpec, FormState, uploaded_file
from web.rendering import redirect, render
from web.session import ApiDep

router = APIRouter()
UPLOAD_FORM = FormSpec(fields=("file",))
FINISHED = (JobStatus.succeeded, JobStatus.failed)
# A broken file can list a thousand row errors; the page shows the first ones and a count.
SHOWN_ERRORS = 100


@router.get("/import")
async def import_page(request: Request, _: ApiDep):
    session.require_permission(request, "members:write")
    return render(request, "members/import.html", {"form": FormState()})


@router.post("/import")
async def upload(request: Request, api: ApiDep):
    try:
        accepted = await api.import_members(*await uploaded_file(request))
    except ApiError as error:
        form = FormState.refused(UPLOAD_FORM, {}, error)
        return render(request, "members/import.html", {"form": form},
                      status_code=form.status_code)
    return redirect(request, f"/jobs/{accepted.job_id}")


@router.get("/jobs/{job_id}")
async def job_page(request: Request, api: ApiDep, job_id: int):
    job = await api.get_job(job_id)
    return render(request, "jobs/detail.html",
                  {"job": job, "finished": job.status in FINISHED, "shown_errors": SHOWN_ERRORS},
                  fragment="progress")
