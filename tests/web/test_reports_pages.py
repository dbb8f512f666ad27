"""Report pages through the real API in-process: the dashboard's charts, a community's report,
the period picker as an htmx fragment, stored runs and who may build them, CSV exports."""

import re
from datetime import UTC, datetime, timedelta

import httpx

TODAY = datetime.now(UTC).date()
START, END = str(TODAY - timedelta(29)), str(TODAY)
PERIOD = f"start={START}&end={END}"
HX = {"HX-Request": "true"}


async def _post(api: httpx.AsyncClient, headers: dict, path: str, body: dict) -> dict:
    response = await api.post(path, headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def seed_reports_world(api: httpx.AsyncClient, headers: dict, count: int) -> list[dict]:
    """`count` communities, through the API. The one at index i has i + 1 members who joined a
    week ago and posted once each; its first member also published i pieces of content and
    attended i events. So each community has 3i + 1 activities, and relevance (the share of
    content kinds) and impact (content per member) differ from one to the next."""
    communities = []
    when = (datetime.now(UTC) - timedelta(days=7)).isoformat()
    for index in range(count):
        community = await _post(api, headers, "/v1/communities", {
            "name": f"Chapter {index}", "slug": f"chapter-{index}", "kind": "offline",
            "timezone": "UTC", "code_of_conduct_url": "https://example.org/coc"})
        communities.append(community)
        kinds = ["post_created"] * (index + 1) + ["content_published", "event_attended"] * index
        for number in range(index + 1):
            member = await _post(api, headers, "/v1/members", {
                "name": f"Member {index}-{number}", "email": f"m{index}-{number}@example.org"})
            await _post(api, headers, f"/v1/members/{member['id']}/memberships",
                        {"community_id": community["id"], "joined_at": when})
            mine = kinds[number:number + 1] if number else [kinds[0], *kinds[index + 1:]]
            for serial, kind in enumerate(mine):
                await _post(api, headers, "/v1/activities", {
                    "member_id": member["id"], "community_id": community["id"], "kind": kind,
                    "occurred_at": when, "source": "forum",
                    "external_id": f"{kind}-{index}-{number}-{serial}"})
    return communities


def points(html: str) -> list[tuple[str, str]]:
    """The quadrant's points: (link, tooltip) each."""
    return re.findall(r'<a class="point" href="([^"]+)"[^>]*>\s*<title>([^<]+)</title>', html)


def export_links(html: str) -> list[str]:
    return [link.replace("&amp;", "&") for link in
            re.findall(r'href="(/reports/exports/[^"]+)" download', html)]


async def assert_all_download(web, links: list[str]) -> None:
    for link in links:
        response = await web.get(link)
        assert response.status_code == 200, (link, response.text[:300])
        assert response.headers["content-type"].startswith("text/csv"), link
        assert "," in response.text.splitlines()[0], link  # a header row at least


def bars(html: str, chart_id: str) -> list[str]:
    svg = re.search(rf'<svg id="{chart_id}".*?</svg>', html, re.S).group(0)
    return re.findall(r'<g class="bar">\s*<title>([^<]+)</title>', svg)


async def test_dashboard_draws_every_community_and_links_points_to_their_reports(web, client):
    communities = await seed_reports_world(client, web.staff["headers"], 3)
    page = await web.get(f"/reports?{PERIOD}")
    assert page.status_code == 200 and "HX-Request" in page.headers["vary"]
    assert "<html" in page.text and 'role="img"' in page.text

    drawn = points(page.text)
    assert len(drawn) == 3
    links = {link.replace("&amp;", "&") for link, _ in drawn}
    assert links == {f"/reports/communities/{c['id']}?{PERIOD}" for c in communities}
    assert {title.split(":")[0] for _, title in drawn} == {"Chapter 0", "Chapter 1", "Chapter 2"}
    # Activity per community, most active first (3i + 1 activities each).
    assert bars(page.text, "activity") == ["Chapter 2: 7", "Chapter 1: 4", "Chapter 0: 1"]
    # Distinct scores: no point hides another.
    assert len(set(re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="7"', page.text))) == 3
    # Growth over time: one line each for new and active members, and activities per member.
    assert page.text.count('<g class="series"') == 3
    assert "How this is computed" in page.text
    assert "Build now" in page.text  # an admin may store the report


async def test_period_picker_swaps_the_report_and_shows_refusals(web, client):
    await seed_reports_world(client, web.staff["headers"], 2)
    fragment = await web.get(f"/reports?{PERIOD}", headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["vary"]
    assert fragment.text.lstrip().startswith('<div id="report"')
    assert "<html" not in fragment.text and len(points(fragment.text)) == 2
    assert f'name="start" value="{START}"' in fragment.text

    # A period long before anything happened: the communities are there, with nothing to count.
    old = await web.get("/reports?start=2001-01-01&end=2001-01-31", headers=HX)
    assert old.status_code == 200 and bars(old.text, "activity") == ["Chapter 0: 0",
                                                                      "Chapter 1: 0"]

    reversed_period = await web.get(f"/reports?start={END}&end={START}", headers=HX)
    assert reversed_period.status_code == 422
    assert 'role="alert"' in reversed_period.text and 'class="point"' not in reversed_period.text
    assert f'name="start" value="{END}"' in reversed_period.text  # the picker keeps the input
    malformed = await web.get("/reports?start=yesterday&end=2026-13-01")
    assert malformed.status_code == 422 and "<html" in malformed.text
    assert 'value="yesterday"' in malformed.text and 'role="alert"' in malformed.text


async def test_community_report_explains_every_figure(web, client):
    communities = await seed_reports_world(client, web.staff["headers"], 3)
    busiest = communities[2]
    page = await web.get(f"/reports/communities/{busiest['id']}?{PERIOD}")
    assert page.status_code == 200 and "Chapter 2" in page.text

    figures = {label.strip(): value for value, label in
               re.findall(r'<li class="figure"><strong>([^<]+)</strong>([^<]+)<', page.text)}
    assert figures["Members"] == "3" and figures["New members"] == "3"
    assert figures["Active members"] == "3" and figures["Activities"] == "7"
    assert figures["Active posters"] == "3" and figures["Mean rating"] == "—"
    assert "Memberships with joined_at &lt;= end." in page.text  # the API's own wording
    assert re.search(r"Health: <strong>[\d.]+</strong> of 100", page.text)
    assert page.text.count('<td data-label="How">') >= 3  # each health component explained
    assert bars(page.text, "rings")[0].startswith("Core: ")
    assert sum(int(title.split(": ")[1]) for title in bars(page.text, "rings")) == 3
    links = export_links(page.text)
    assert f"/reports/exports/reports/engagement.csv?community_id={busiest['id']}&{PERIOD}" in (
        links)
    await assert_all_download(web, links)

    fragment = await web.get(f"/reports/communities/{busiest['id']}?{PERIOD}", headers=HX)
    assert fragment.text.lstrip().startswith('<div id="report"') and "<html" not in fragment.text
    missing = await web.get(f"/reports/communities/999999?{PERIOD}")
    assert missing.status_code == 404


async def test_viewers_read_but_only_report_writers_build(open_web, web, client):
    communities = await seed_reports_world(client, web.staff["headers"], 1)
    viewer = await open_web("viewer")
    dashboard = await viewer.get(f"/reports?{PERIOD}")
    assert dashboard.status_code == 200 and len(points(dashboard.text)) == 1
    assert "Build now" not in dashboard.text
    report = await viewer.get(f"/reports/communities/{communities[0]['id']}?{PERIOD}")
    assert report.status_code == 200 and "Build now" not in report.text
    refused = await viewer.post("/reports/runs", {"kind": "impact_relevance", "start": START,
                                                  "end": END})
    assert refused.status_code == 403 and "reports:write" in refused.text

    no_token = await web.http.post("/reports/runs", data={"kind": "impact_relevance"})
    assert no_token.status_code == 403  # no CSRF token: refused before anything happens

    signed_out = await open_web(None)
    away = await signed_out.get("/reports")
    assert away.status_code == 303 and away.headers["location"].startswith("/login?next=")


async def test_build_now_starts_a_run_and_its_page_follows_the_job(web, client):
    communities = await seed_reports_world(client, web.staff["headers"], 1)
    await web.get(f"/reports/communities/{communities[0]['id']}?{PERIOD}")
    started = await web.post("/reports/runs", {"kind": "engagement", "start": START, "end": END,
                                               "community_id": str(communities[0]["id"])})
    assert started.status_code == 303, started.text
    run_url = started.headers["location"]
    assert re.fullmatch(r"/reports/runs/\d+", run_url)

    page = await web.get(run_url)
    assert page.status_code == 200 and "Engagement report #" in page.text
    # No worker runs in-process: the run waits, and its part polls itself until it is done.
    assert "Waiting for a worker" in page.text
    assert f'hx-get="{run_url}" hx-trigger="every 1s"' in page.text
    assert '<meta http-equiv="refresh"' in page.text
    progress = await web.get(run_url, headers=HX)
    assert progress.text.lstrip().startswith('<section id="progress"')

    history = await web.get(f"/reports/communities/{communities[0]['id']}?{PERIOD}")
    assert f'href="{run_url}"' in history.text
    listing = await web.get("/reports/runs")
    assert f'href="{run_url}"' in listing.text

    refused = await web.post("/reports/runs", {"kind": "nonsense", "start": START, "end": END})
    assert refused.status_code == 422
    assert (await web.get("/reports/runs/999999")).status_code == 404


async def test_a_finished_run_stops_polling_and_draws_the_stored_quadrant(web, client):
    from services.worker.reports import build_report

    communities = await seed_reports_world(client, web.staff["headers"], 2)
    await web.get(f"/reports?{PERIOD}")
    started = await web.post("/reports/runs", {"kind": "impact_relevance", "start": START,
                                               "end": END})
    assert started.status_code == 303, started.text
    run_url = started.headers["location"]
    run = (await client.get(f"/v1{run_url}", headers=web.staff["headers"])).json()

    await build_report({}, run["job_id"])  # what the worker runs for this job
    done = await web.get(run_url, headers=HX)
    assert done.status_code == 200 and "Finished." in done.text
    assert "hx-trigger" not in done.text  # finished: the part stops polling itself
    assert ">done<" in done.text and "1 of 1 steps" in done.text
    drawn = {link.replace("&amp;", "&") for link, _ in points(done.text)}
    assert drawn == {f"/reports/communities/{c['id']}?{PERIOD}" for c in communities}
    page = await web.get(run_url)
    assert '<meta http-equiv="refresh"' not in page.text


async def test_exports_stream_csv_from_the_api(open_web, web, client):
    await seed_reports_world(client, web.staff["headers"], 2)
    members = await web.get("/reports/exports/members.csv")
    assert members.status_code == 200
    assert members.headers["content-type"].startswith("text/csv")
    assert "attachment" in members.headers["content-disposition"]
    lines = members.text.strip().splitlines()
    assert lines[0].startswith("id,name,email") and len(lines) == 1 + 3
    assert "Member 1-1" in members.text

    dashboard = await web.get(f"/reports?{PERIOD}")
    links = export_links(dashboard.text)
    assert len(links) == 7
    await assert_all_download(web, links)

    activities = await web.get(next(link for link in links if "activities.csv" in link))
    assert len(activities.text.strip().splitlines()) == 1 + 1 + 4

    bad_filter = await web.get("/reports/exports/members.csv?colour=blue")
    assert bad_filter.status_code == 422 and "<html" in bad_filter.text
    assert (await web.get("/reports/exports/staff")).status_code == 404
    assert (await web.get("/reports/exports/../v1/staff.csv")).status_code == 404

    viewer = await open_web("viewer")
    assert (await viewer.get("/reports/exports/members.csv")).status_code == 200
