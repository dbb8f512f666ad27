"""The activity feed through the real API: names, filters and "Load more"."""

import re

from tests.web.test_advocates import HTMX
from tests.web.test_communities import seed
from tests.web.test_members import seed_member


async def test_feed_names_filters_and_loads_more(web, client):
    from web.forms import PAGE_SIZE

    headers = web.staff["headers"]
    community = await seed(client, headers)
    member = await seed_member(client, headers)
    items = [{"member_id": member["id"], "community_id": community["id"],
              "kind": "talk_given" if number == 0 else "post_created",
              "occurred_at": f"2026-10-01T10:{number:02}:00+00:00", "source": "forum",
              "external_id": f"a-{number}"} for number in range(PAGE_SIZE + 1)]
    stored = await client.post("/v1/activities/bulk", json={"items": items}, headers=headers)
    assert stored.status_code == 200 and stored.json()["accepted"] == PAGE_SIZE + 1

    feed = await web.get("/activities")
    assert feed.status_code == 200
    assert "Chi Obi" in feed.text and "PyData Berlin" in feed.text and "pending" in feed.text
    more = re.search(r'<tr class="load-more">\s*<td colspan="6"><a class="button" href="([^"]+)"',
                     feed.text).group(1).replace("&amp;", "&")
    rows = await web.get(more, headers=HTMX)
    assert rows.text.lstrip().startswith("<tr>") and "talk given" in rows.text
    assert "load-more" not in rows.text

    talks = await web.get("/activities?kind=talk_given", headers=HTMX)
    assert talks.text.lstrip().startswith('<section id="results"')
    assert talks.text.count("<tr>") == 2  # the header and the one talk
    processed = await web.get("/activities?state=processed", headers=HTMX)
    assert "No activities match." in processed.text


async def test_viewer_reads_the_feed(open_web, web):
    viewer = await open_web("viewer")
    feed = await viewer.get("/activities")
    assert feed.status_code == 200 and "No activities match." in feed.text
