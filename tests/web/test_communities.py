"""Community pages through the real API: list fragments, detail, create and edit forms."""

import re

BERLIN = {"name": "PyData Berlin", "slug": "pydata-berlin", "kind": "offline", "city": "Berlin",
          "country": "DE", "timezone": "Europe/Berlin", "tags": ["python", "data"]}
FORM = {"name": "Rust Lagos", "slug": "rust-lagos", "kind": "hybrid", "status": "active",
        "city": "Lagos", "country": "ng", "timezone": "Africa/Lagos", "tags": "rust, systems",
        "description": "", "code_of_conduct_url": ""}


async def seed(client, headers, **fields) -> dict:
    response = await client.post("/v1/communities", json={**BERLIN, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def field_error(html: str, field: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="error-{field}">([^<]*)</p>', html)
    return found.group(1) if found else None


async def test_list_search_filter_and_pages_as_fragments(web, client):
    headers = web.staff["headers"]
    await seed(client, headers)
    await seed(client, headers, name="Online Pythonistas", slug="online-py", kind="online",
               city=None, country=None)
    await seed(client, headers, name="PyData Munich", slug="pydata-munich", city="Munich",
               status="dormant")

    page = await web.get("/communities")
    assert page.status_code == 200 and "<html" in page.text
    assert "HX-Request" in page.headers["vary"]
    assert all(name in page.text for name in ("PyData Berlin", "Online Pythonistas",
                                              "PyData Munich"))

    search = await web.get("/communities?q=munich", headers={"HX-Request": "true"})
    assert search.status_code == 200 and "HX-Request" in search.headers["vary"]
    assert search.text.lstrip().startswith('<section id="results"')
    assert "<html" not in search.text and "<form" not in search.text
    assert "PyData Munich" in search.text and "PyData Berlin" not in search.text

    by_kind = await web.get("/communities?kind=online&q=&country=&status=")
    assert "Online Pythonistas" in by_kind.text and "PyData Berlin" not in by_kind.text
    assert '<option value="online" selected>' in by_kind.text  # the filter form keeps its state
    by_status = await web.get("/communities?status=dormant")
    assert "PyData Munich" in by_status.text and "PyData Berlin" not in by_status.text
    by_country = await web.get("/communities?country=de&status=active")
    assert "PyData Berlin" in by_country.text and "PyData Munich" not in by_country.text

    bad_country = await web.get("/communities?country=XX", headers={"HX-Request": "true"})
    assert bad_country.status_code == 422 and "Country: Invalid country" in bad_country.text
    nothing = await web.get("/communities?q=atlantis")
    assert "No communities match." in nothing.text


async def test_cursor_pages_link_to_each_other(web, client):
    from web.forms import PAGE_SIZE

    for number in range(PAGE_SIZE + 2):
        await seed(client, web.staff["headers"], name=f"Chapter {number:02}",
                   slug=f"chapter-{number:02}")
    first = await web.get("/communities?q=chapter")
    assert "Chapter 00" in first.text and f"Chapter {PAGE_SIZE:02}" not in first.text
    next_url = re.search(r'<a class="next" href="([^"]+)"', first.text).group(1).replace(
        "&amp;", "&")
    assert "q=chapter" in next_url and "cursor=" in next_url

    second = await web.get(next_url, headers={"HX-Request": "true"})
    assert second.text.lstrip().startswith('<section id="results"')
    assert f"Chapter {PAGE_SIZE:02}" in second.text and "Chapter 00" not in second.text
    assert 'class="next"' not in second.text and "First page" in second.text

    tampered = await web.get("/communities?cursor=garbage")
    assert tampered.status_code == 422 and "cursor" in tampered.text


async def test_create_shows_api_errors_next_to_fields_and_keeps_input(web, client):
    refused = await web.post("/communities/new", {**FORM, "slug": "Not A Slug",
                                                  "country": "XX", "timezone": "Mars/Base"})
    assert refused.status_code == 422
    assert field_error(refused.text, "slug").startswith("String should match pattern")
    assert field_error(refused.text, "country") == "Invalid country alpha2 code"
    assert "is not an IANA time zone name" in field_error(refused.text, "timezone")
    assert field_error(refused.text, "name") is None
    assert 'value="Not A Slug"' in refused.text and 'value="Rust Lagos"' in refused.text
    assert 'value="rust, systems"' in refused.text
    assert "Please correct the fields marked below." in refused.text

    created = await web.post("/communities/new", FORM)
    assert created.status_code == 303
    detail = await web.get(created.headers["location"])
    assert "Rust Lagos" in detail.text and "Community “Rust Lagos” created." in detail.text
    stored = (await client.get("/v1/communities", headers=web.staff["headers"])).json()["items"]
    assert [(c["country"], c["tags"], c["description"]) for c in stored] == [
        ("NG", ["rust", "systems"], None)]

    taken = await web.post("/communities/new", {**FORM, "name": "Another"})
    assert taken.status_code == 409
    assert "taken by another community" in field_error(taken.text, "slug")


async def test_edit_prefills_the_form_and_saves_changes(web, client):
    community = await seed(client, web.staff["headers"])
    form = await web.get(f"/communities/{community['id']}/edit")
    assert 'value="PyData Berlin"' in form.text and 'value="python, data"' in form.text

    values = {**FORM, "name": "PyData Potsdam", "slug": "pydata-berlin", "city": "Potsdam",
              "country": "DE", "timezone": "Europe/Berlin", "tags": "python"}
    refused = await web.post(f"/communities/{community['id']}/edit", {**values, "name": ""})
    assert refused.status_code == 422
    assert "at least 1 character" in field_error(refused.text, "name")
    assert 'value="Potsdam"' in refused.text

    saved = await web.post(f"/communities/{community['id']}/edit", values)
    assert saved.status_code == 303
    detail = await web.get(saved.headers["location"])
    assert "PyData Potsdam" in detail.text and "Changes saved." in detail.text
    stored = (await client.get(f"/v1/communities/{community['id']}",
                               headers=web.staff["headers"])).json()
    assert stored["city"] == "Potsdam" and stored["tags"] == ["python"]


async def test_viewers_read_but_cannot_create_or_edit(open_web, client, admin):
    community = await seed(client, admin["headers"])
    viewer = await open_web("viewer")
    listing = await viewer.get("/communities")
    assert "PyData Berlin" in listing.text and "New community" not in listing.text
    detail = await viewer.get(f"/communities/{community['id']}")
    assert detail.status_code == 200 and "/edit" not in detail.text

    for url in ("/communities/new", f"/communities/{community['id']}/edit"):
        page = await viewer.get(url)
        assert page.status_code == 403 and "You do not have permission" in page.text

    posted = await viewer.post("/communities/new", FORM)
    assert posted.status_code == 403 and "You do not have permission" in posted.text
    edited = await viewer.post(f"/communities/{community['id']}/edit",
                               {**FORM, "slug": "pydata-berlin"})
    assert edited.status_code == 403
    stored = (await client.get("/v1/communities", headers=admin["headers"])).json()["items"]
    assert [c["name"] for c in stored] == ["PyData Berlin"]
