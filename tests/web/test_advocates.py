"""Advocate pages through the real API: the list with filters and sorts, enrolment, the detail
with its ledger, adjustments and the access link. The seeding helpers serve the other rewards
page tests too (in-process and live)."""

import re
from urllib.parse import urlsplit

from shared.db import session_scope
from shared.models import Member
from tests.web.test_communities import field_error
from tests.web.test_members import seed_member

HTMX = {"HX-Request": "true"}


async def _created(response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


async def seed_advocate(api, headers, *, points: int = 0, name: str = "Ada Lovelace",
                        email: str = "ada@example.org") -> dict:
    """A member enrolled as an advocate, with `points` given by an adjustment."""
    member = await seed_member(api, headers, name=name, email=email, handle=None)
    advocate = await _created(await api.post("/v1/advocates", json={"member_id": member["id"]},
                                             headers=headers))
    if points:
        await _created(await api.post(f"/v1/advocates/{advocate['id']}/adjustments",
                                      json={"points": points, "reason": "Welcome bonus"},
                                      headers=headers))
    return advocate


async def seed_tier(api, headers, name: str, min_lifetime_points: int, **fields) -> dict:
    body = {"name": name, "min_lifetime_points": min_lifetime_points, **fields}
    return await _created(await api.post("/v1/tiers", json=body, headers=headers))


async def seed_reward(api, headers, name: str, cost_points: int, **fields) -> dict:
    body = {"name": name, "cost_points": cost_points, **fields}
    return await _created(await api.post("/v1/rewards", json=body, headers=headers))


async def access_link(api, headers, advocate_id: int) -> str:
    """The path of the advocate's magic link on the web (/a/<token>)."""
    link = await _created(await api.post(f"/v1/advocates/{advocate_id}/access-link",
                                         headers=headers))
    return urlsplit(link["url"]).path


async def test_list_filters_sorts_and_pages(web, client):
    from web.forms import PAGE_SIZE

    headers = web.staff["headers"]
    silver = await seed_tier(client, headers, "Silver", 100)
    rich = await seed_advocate(client, headers, points=150, name="Rich Rita", email="r@ex.org")
    for number in range(PAGE_SIZE):
        await seed_advocate(client, headers, points=number + 1, name=f"Ada {number:02}",
                            email=f"ada{number}@ex.org")
    paused = await client.post(f"/v1/advocates/{rich['id']}/pause", headers=headers)
    assert paused.status_code == 200

    page = await web.get("/advocates")
    assert page.status_code == 200 and 'class="next"' in page.text
    assert "HX-Request" in page.headers["vary"] and 'href="/advocates/new"' in page.text

    by_balance = await web.get("/advocates?sort=balance", headers=HTMX)
    assert by_balance.text.lstrip().startswith('<section id="results"')
    names = re.findall(r'<a href="/advocates/\d+">([^<]+)</a>', by_balance.text)
    assert names[:3] == ["Rich Rita", "Ada 24", "Ada 23"]

    only_paused = await web.get("/advocates?status=paused", headers=HTMX)
    assert "Rich Rita" in only_paused.text and "Ada 00" not in only_paused.text
    in_silver = await web.get(f"/advocates?tier_id={silver['id']}", headers=HTMX)
    assert "Rich Rita" in in_silver.text and "Ada 24" not in in_silver.text

    next_url = re.search(r'<a class="next" href="([^"]+)"', page.text).group(1)
    second = await web.get(next_url.replace("&amp;", "&"))
    assert second.status_code == 200 and "Ada 24" in second.text

    bad = await web.get("/advocates?status=nonsense", headers=HTMX)
    assert bad.status_code == 422 and 'class="alert"' in bad.text


async def test_enrol_a_member_and_refusals_shown(web, client):
    headers = web.staff["headers"]
    member = await seed_member(client, headers, name="Chi Obi", email="chi@example.org")
    search = await web.get("/advocates/new?q=chi", headers=HTMX)
    assert search.text.lstrip().startswith('<section id="found"')
    assert 'aria-label="Enrol Chi Obi"' in search.text

    enrolled = await web.post("/advocates/new", {"member_id": str(member["id"])})
    assert enrolled.status_code == 303
    detail = await web.get(enrolled.headers["location"])
    assert "Chi Obi is now an advocate." in detail.text and "Referral code" in detail.text

    banned = await seed_member(client, headers, name="Bad Actor", email="bad@example.org")
    # Bans come from moderation; here the member is simply marked banned.
    async with session_scope() as session:
        (await session.get(Member, banned["id"])).status = "banned"
    refused = await web.post("/advocates/new", {"member_id": str(banned["id"])})
    assert refused.status_code == 409 and 'class="alert"' in refused.text


async def test_detail_adjust_with_errors_and_ledger(web, client):
    headers = web.staff["headers"]
    await seed_tier(client, headers, "Gold", 1000)
    advocate = await seed_advocate(client, headers, points=100)

    missing_reason = await web.post(f"/advocates/{advocate['id']}/adjustments",
                                    {"points": "50", "reason": ""})
    assert missing_reason.status_code == 422
    assert "at least 3 characters" in field_error(missing_reason.text, "reason")
    assert 'value="50"' in missing_reason.text

    overdraw = await web.post(f"/advocates/{advocate['id']}/adjustments",
                              {"points": "-500", "reason": "Clawback"})
    assert overdraw.status_code == 409 and 'class="alert"' in overdraw.text

    adjusted = await web.post(f"/advocates/{advocate['id']}/adjustments",
                              {"points": "40", "reason": "Great talk"})
    assert adjusted.status_code == 303
    detail = await web.get(adjusted.headers["location"])
    assert "Adjusted by +40 points." in detail.text
    assert '<strong id="balance">140</strong>' in detail.text
    assert "Gold: 860 points to go" in detail.text
    assert detail.text.index("Great talk") < detail.text.index("Welcome bonus")


async def test_access_link_is_shown_once(web, client):
    advocate = await seed_advocate(client, web.staff["headers"])
    await web.get(f"/advocates/{advocate['id']}")
    issued = await web.post(f"/advocates/{advocate['id']}/access-link", headers=HTMX)
    assert issued.status_code == 200
    assert issued.text.lstrip().startswith('<div id="access-link"')
    url = re.search(r'value="(http[^"]+/a/[^"]+)"', issued.text).group(1)
    again = await web.get(f"/advocates/{advocate['id']}")
    assert url not in again.text and "Issue an access link" in again.text


async def test_viewer_sees_no_write_buttons_and_is_refused(open_web, web, client):
    advocate = await seed_advocate(client, web.staff["headers"], points=10)
    viewer = await open_web("viewer")
    listing = await viewer.get("/advocates")
    assert listing.status_code == 200 and 'href="/advocates/new"' not in listing.text
    detail = await viewer.get(f"/advocates/{advocate['id']}")
    assert "Adjust points" not in detail.text and "Issue an access link" not in detail.text
    assert (await viewer.get("/advocates/new")).status_code == 403
    refused = await viewer.post(f"/advocates/{advocate['id']}/adjustments",
                                {"points": "5", "reason": "Sneaky"})
    assert refused.status_code == 403 and "You do not have permission" in refused.text


async def test_post_without_csrf_is_refused(web, client):
    advocate = await seed_advocate(client, web.staff["headers"], points=10)
    refused = await web.http.post(f"/advocates/{advocate['id']}/adjustments",
                                  data={"points": "5", "reason": "No token"})
    assert refused.status_code == 403 and "This form has expired" in refused.text


async def test_pause_resume_and_remove_with_pending_redemptions_refunded(web, client):
    headers = web.staff["headers"]
    advocate = await seed_advocate(client, headers, points=300)
    hoodie = await seed_reward(client, headers, "Hoodie", 100, requires_approval=True)
    redeemed = await client.post("/v1/redemptions", headers=headers,
                                 json={"advocate_id": advocate["id"], "reward_id": hoodie["id"]})
    assert redeemed.status_code == 201
    url = f"/advocates/{advocate['id']}"
    page = await web.get(url)
    assert f'action="{url}/pause"' in page.text and f'action="{url}/remove"' in page.text
    assert 'data-confirm="Remove Ada Lovelace from the program?' in page.text

    paused = await web.post(f"{url}/pause")
    assert paused.status_code == 303
    page = await web.get(url)
    assert "Paused: earns nothing" in page.text and 'badge-paused">paused' in page.text
    assert f'action="{url}/resume"' in page.text and f'action="{url}/pause"' not in page.text
    # Pausing what is paused already is refused on the page, and nothing changes.
    refused = await web.post(f"{url}/pause")
    assert refused.status_code == 409 and "it cannot be paused" in refused.text
    assert (await web.post(f"{url}/resume")).status_code == 303

    removed = await web.post(f"{url}/remove")
    assert removed.status_code == 303
    page = await web.get(url)
    assert "pending redemptions were cancelled and refunded" in page.text
    assert '<strong id="balance">300</strong>' in page.text
    assert f'action="{url}/remove"' not in page.text and "Issue an access link" not in page.text
    state = (await client.get(f"/v1/redemptions/{redeemed.json()['id']}", headers=headers))
    assert state.json()["status"] == "cancelled"
    again = await web.post(f"{url}/remove")
    assert again.status_code == 409 and "is removed" in again.text
    assert (await web.post("/advocates/999/pause")).status_code == 404
    assert (await web.post(f"{url}/delete")).status_code == 404


ACTIVE_LINK = 'data-label="State"><span class="badge badge-active">'


async def test_access_links_are_listed_and_revoked_one_by_one(web, client):
    headers = web.staff["headers"]
    advocate = await seed_advocate(client, headers)
    other = await seed_advocate(client, headers, name="Bo", email="bo@example.org")
    first = await access_link(client, headers, advocate["id"])
    second = await access_link(client, headers, advocate["id"])
    url = f"/advocates/{advocate['id']}"
    page = await web.get(url)
    revoke_urls = re.findall(rf'action="({url}/access-links/\d+/revoke)"', page.text)
    assert len(revoke_urls) == 2 and page.text.count(ACTIVE_LINK) == 2
    # Newest first: the second link issued is the first row.
    revoked = await web.post(revoke_urls[0])
    assert revoked.status_code == 303
    page = await web.get(url)
    assert "The access link no longer works." in page.text
    assert page.text.count(ACTIVE_LINK) == 1 and "badge-revoked" in page.text
    for path, status in ((second, 401), (first, 200)):
        token = path.rsplit("/", 1)[1]
        me = await client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == status, path

    # Another advocate's link cannot be revoked through this advocate's page.
    await access_link(client, headers, other["id"])
    stranger = (await client.get(f"/v1/advocates/{other['id']}/access-links",
                                 headers=headers)).json()["items"][0]["id"]
    assert (await web.post(f"{url}/access-links/{stranger}/revoke")).status_code == 404
    assert (await client.get(f"/v1/advocates/{other['id']}/access-links",
                             headers=headers)).json()["items"][0]["active"]


async def test_viewer_sees_links_but_cannot_change_status_or_revoke(open_web, web, client):
    advocate = await seed_advocate(client, web.staff["headers"])
    await access_link(client, web.staff["headers"], advocate["id"])
    link_id = (await client.get(f"/v1/advocates/{advocate['id']}/access-links",
                                headers=web.staff["headers"])).json()["items"][0]["id"]
    viewer = await open_web("viewer")
    url = f"/advocates/{advocate['id']}"
    page = await viewer.get(url)
    assert 'id="access-links"' in page.text and "Revoke" not in page.text
    assert f'action="{url}/pause"' not in page.text
    for path in (f"{url}/pause", f"{url}/remove", f"{url}/access-links/{link_id}/revoke"):
        refused = await viewer.post(path)
        assert refused.status_code == 403, path
    unsigned = await web.http.post(f"{url}/remove")
    assert unsigned.status_code == 403 and "This form has expired" in unsigned.text
    state = await client.get(f"/v1/advocates/{advocate['id']}", headers=web.staff["headers"])
    assert state.json()["status"] == "active"
    links = await client.get(f"/v1/advocates/{advocate['id']}/access-links",
                             headers=web.staff["headers"])
    assert links.json()["items"][0]["active"]
