"""Member pages and the CSV import through the real API (the import job run in-process)."""

import re

from tests.web.test_communities import field_error, seed


async def seed_member(client, headers, **fields) -> dict:
    body = {"name": "Chi Obi", "email": "chi@example.org", "handle": "chiobi", **fields}
    response = await client.post("/v1/members", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_list_search_status_and_pages(web, client):
    from web.forms import PAGE_SIZE

    headers = web.staff["headers"]
    await seed_member(client, headers)
    for number in range(PAGE_SIZE):
        await seed_member(client, headers, name=f"Ada {number:02}", email=f"ada{number}@ex.org",
                          handle=None)

    page = await web.get("/members")
    assert page.status_code == 200 and "Chi Obi" in page.text and 'class="next"' in page.text
    assert "HX-Request" in page.headers["vary"]

    search = await web.get("/members?q=chiobi&status=", headers={"HX-Request": "true"})
    assert search.text.lstrip().startswith('<section id="results"')
    assert "Chi Obi" in search.text and "Ada 00" not in search.text
    by_status = await web.get("/members?status=banned", headers={"HX-Request": "true"})
    assert "No members match." in by_status.text

    next_url = re.search(r'<a class="next" href="([^"]+)"', page.text).group(1)
    second = await web.get(next_url.replace("&amp;", "&"))
    assert f"Ada {PAGE_SIZE - 1:02}" in second.text and "Chi Obi" not in second.text


async def test_create_member_shows_field_errors_and_conflicts(web, client):
    form = {"name": "Chi Obi", "email": "not-an-email", "handle": "", "country": "NG",
            "timezone": "Africa/Lagos", "interests": "python, ml"}
    refused = await web.post("/members/new", form)
    assert refused.status_code == 422
    assert "valid email address" in field_error(refused.text, "email")
    assert 'value="not-an-email"' in refused.text and 'value="python, ml"' in refused.text

    created = await web.post("/members/new", {**form, "email": "chi@example.org"})
    assert created.status_code == 303
    detail = await web.get(created.headers["location"])
    assert "Chi Obi" in detail.text and "Member “Chi Obi” created." in detail.text
    assert '<span class="tag">ml</span>' in detail.text

    duplicate = await web.post("/members/new", {**form, "email": "CHI@example.org"})
    assert duplicate.status_code == 409
    assert "already has the email" in field_error(duplicate.text, "email")


async def test_member_detail_adds_a_membership(web, client):
    headers = web.staff["headers"]
    member = await seed_member(client, headers)
    community = await seed(client, headers)
    detail = await web.get(f"/members/{member['id']}")
    assert "Not in any community yet." in detail.text
    assert f'<option value="{community["id"]}">PyData Berlin</option>' in detail.text

    url = f"/members/{member['id']}/memberships"
    added = await web.post(url, {"community_id": str(community["id"]), "role": "organiser"})
    assert added.status_code == 303
    detail = await web.get(added.headers["location"])
    assert "Added to PyData Berlin as organiser." in detail.text
    assert re.search(r"PyData Berlin</a></td>\s*<td data-label=\"Role\">organiser", detail.text)

    # With htmx, a refusal replaces only the memberships part and names the field.
    again = await web.post(url, {"community_id": str(community["id"]), "role": "member"},
                           headers={"HX-Request": "true"})
    assert again.status_code == 409
    assert again.text.lstrip().startswith('<section id="memberships"')
    assert "already in community" in field_error(again.text, "community_id")
    bad_role = await web.post(url, {"community_id": str(community["id"]), "role": "king"})
    assert bad_role.status_code == 422 and field_error(bad_role.text, "role")


async def test_viewers_see_members_but_no_forms(open_web, client, admin):
    member = await seed_member(client, admin["headers"])
    viewer = await open_web("viewer")
    listing = await viewer.get("/members")
    assert "Chi Obi" in listing.text and "New member" not in listing.text
    assert 'href="/import"' not in listing.text
    detail = await viewer.get(f"/members/{member['id']}")
    assert detail.status_code == 200 and "Add to a community" not in detail.text
    for url in ("/members/new", "/import"):
        assert (await viewer.get(url)).status_code == 403
    posted = await viewer.post("/members/new", {"name": "X", "email": "x@example.org"})
    assert posted.status_code == 403 and "You do not have permission" in posted.text
    assert (await viewer.get("/members/999999")).status_code == 404


CSV = (
    "name,email,country,community,role\n"
    "Ada Lovelace,ada@example.org,GB,pydata-berlin,organiser\n"
    "Chi Obi,chi@example.org,NG,,\n"
    "Broken,not-an-email,,,\n"
)


async def test_import_uploads_and_the_job_page_follows_progress(web, client):
    from services.worker.imports import import_members

    await seed(client, web.staff["headers"])
    page = await web.get("/import")
    assert 'enctype="multipart/form-data"' in page.text

    uploaded = await web.http.post("/import", data={"csrf_token": web.csrf},
                                   files={"file": ("members.csv", CSV.encode(), "text/csv")})
    assert uploaded.status_code == 303
    job_url = uploaded.headers["location"]
    job_id = int(job_url.rsplit("/", 1)[1])

    queued = await web.get(job_url)
    assert queued.status_code == 200 and "Waiting for a worker" in queued.text
    assert 'hx-trigger="every 1s"' in queued.text and 'http-equiv="refresh"' in queued.text
    poll = await web.get(job_url, headers={"HX-Request": "true"})
    assert poll.text.lstrip().startswith('<section id="progress"')
    assert "HX-Request" in poll.headers["vary"]

    await import_members({}, job_id)  # what the worker does with the queued job

    done = await web.get(job_url, headers={"HX-Request": "true"})
    assert "Finished." in done.text and "every 1s" not in done.text
    counts = dict(re.findall(r'<li class="(\w+)"><strong>(\d+)</strong>', done.text))
    assert counts == {"created": "2", "updated": "0", "unchanged": "0", "failed": "1"}
    assert re.search(r'data-label="Line">4</td><td data-label="Reason">[^<]*email', done.text)
    assert '<progress value="3" max="3"' in done.text


async def test_import_refusals_show_on_the_upload_form(web):
    empty = await web.http.post("/import", data={"csrf_token": web.csrf},
                                files={"file": ("empty.csv", b"", "text/csv")})
    assert empty.status_code == 422 and "The file is empty" in empty.text
    no_header = await web.http.post("/import", data={"csrf_token": web.csrf},
                                    files={"file": ("x.csv", b"emial\nx@y.org\n", "text/csv")})
    assert no_header.status_code == 422 and "lacks the required column" in no_header.text
    forged = await web.http.post("/import", files={"file": ("m.csv", CSV.encode(), "text/csv")})
    assert forged.status_code == 403
