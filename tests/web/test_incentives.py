"""Incentive pages through the real API: list, create per kind with errors by field, edit with
the version history."""

import re

from tests.web.test_advocates import HTMX
from tests.web.test_communities import field_error

TALKS = {"name": "Talks", "kind": "points_rule", "activity_kind": "talk_given", "points": "100",
         "status": "active", "cap_max": "2", "cap_per": "day", "count": "", "n": "",
         "starts_at": "", "ends_at": "", "community_ids": ""}


async def test_create_per_kind_errors_by_field_and_listed(web):
    form = await web.get("/incentives/new")
    assert form.status_code == 200 and "Cap: awards at most" in form.text
    milestone_fields = await web.get("/incentives/new?kind=milestone&name=Writer", headers=HTMX)
    assert milestone_fields.text.lstrip().startswith('<section class="card" id="incentive-form"')
    assert "Pays at the Nth activity" in milestone_fields.text
    assert "Cap: awards at most" not in milestone_fields.text
    assert 'value="Writer"' in milestone_fields.text

    refused = await web.post("/incentives/new", {**TALKS, "points": "0", "name": ""})
    assert refused.status_code == 422
    assert field_error(refused.text, "points") and field_error(refused.text, "name")
    assert 'value="2"' in refused.text

    created = await web.post("/incentives/new", TALKS)
    assert created.status_code == 303, created.text
    milestone = await web.post("/incentives/new", {**TALKS, "name": "Prolific writer",
                                                   "kind": "milestone",
                                                   "activity_kind": "content_published",
                                                   "count": "3", "points": "250"})
    assert milestone.status_code == 303, milestone.text

    listing = await web.get("/incentives")
    assert "Talks" in listing.text and "Prolific writer" in listing.text
    only_milestones = await web.get("/incentives?kind=milestone", headers=HTMX)
    assert "Prolific writer" in only_milestones.text and ">Talks<" not in only_milestones.text


async def test_edit_makes_a_version_shown_in_the_history(web):
    created = await web.post("/incentives/new", TALKS)
    url = created.headers["location"]
    page = await web.get(url)
    assert "Version history" in page.text and page.text.count('data-label="Version">v') == 1

    saved = await web.post(url, {**TALKS, "points": "120"})
    assert saved.status_code == 303, saved.text
    page = await web.get(url)
    assert "Changes saved." in page.text
    assert re.findall(r'data-label="Version">v(\d)', page.text) == ["2", "1"]

    refused = await web.post(url, {**TALKS, "points": "-5"})
    assert refused.status_code == 422 and field_error(refused.text, "points")


async def test_viewer_and_csrf_refusals(open_web, web):
    url = (await web.post("/incentives/new", TALKS)).headers["location"]
    viewer = await open_web("viewer")
    listing = await viewer.get("/incentives")
    assert "Talks" in listing.text and 'href="/incentives/new"' not in listing.text
    assert "Save" not in (await viewer.get(url)).text
    refused = await viewer.post(url, {**TALKS, "points": "5"})
    assert refused.status_code == 403 and "You do not have permission" in refused.text
    no_token = await web.http.post("/incentives/new", data=TALKS)
    assert no_token.status_code == 403


async def test_preview_polls_the_job_and_shows_its_result(web):
    from services.worker.incentive_preview import preview_incentive

    url = (await web.post("/incentives/new", TALKS)).headers["location"]
    page = await web.get(url)
    assert "Preview" in page.text and 'name="start"' in page.text

    missing = await web.post(f"{url}/preview", {"start": "", "end": "2026-11-01"})
    assert missing.status_code == 422 and field_error(missing.text, "start")
    assert "Version history" in missing.text

    started = await web.post(f"{url}/preview", {"start": "2026-10-01", "end": "2026-11-01"})
    assert started.status_code == 303
    preview_url = started.headers["location"]
    queued = await web.get(preview_url)
    assert "Waiting for a worker" in queued.text and 'hx-trigger="every 1s"' in queued.text
    assert "<noscript>" in queued.text

    job_id = int(preview_url.rsplit("/", 1)[1])
    await preview_incentive({}, job_id)  # what the worker does with the queued job
    done = await web.get(preview_url, headers=HTMX)
    assert done.text.lstrip().startswith('<section id="progress"')
    assert 'id="preview-awards">0<' in done.text and "every 1s" not in done.text


async def test_cap_errors_are_shown_next_to_the_cap_fields(web):
    too_small = await web.post("/incentives/new", {**TALKS, "cap_max": "0"})
    assert too_small.status_code == 422
    assert "greater than or equal to 1" in field_error(too_small.text, "cap_max")
    assert field_error(too_small.text, "cap_per") is None
    # Nothing in the banner above the form: the message sits by the field it is about.
    assert "Please correct the fields marked below." in too_small.text
    assert 'id="field-cap_max" name="cap_max" aria-invalid="true"' in too_small.text
    assert 'value="0"' in too_small.text

    no_period = await web.post("/incentives/new", {**TALKS, "cap_per": ""})
    assert no_period.status_code == 422
    assert field_error(no_period.text, "cap_per") and field_error(no_period.text, "cap_max") is None

    url = (await web.post("/incentives/new", TALKS)).headers["location"]
    refused_edit = await web.post(url, {**TALKS, "cap_max": "not a number"})
    assert refused_edit.status_code == 422 and field_error(refused_edit.text, "cap_max")
    listing = await web.get("/incentives")
    assert listing.text.count('<a href="/incentives/') == 1
