"""Tiers and the rewards catalogue through the real API."""

import re

from tests.web.test_advocates import HTMX, seed_reward
from tests.web.test_communities import field_error

TIER = {"name": "Silver", "min_lifetime_points": "500", "multiplier": "1.25",
        "perks": "Speaker coaching, Early registration"}
REWARD = {"name": "Hoodie", "description": "", "cost_points": "300", "stock": "",
          "per_member_limit": "1", "requires_approval": "false"}


async def test_tiers_create_with_errors_list_and_edit(web):
    refused = await web.post("/tiers/new", {**TIER, "multiplier": "0"})
    assert refused.status_code == 422 and field_error(refused.text, "multiplier")
    created = await web.post("/tiers/new", TIER)
    assert created.status_code == 303
    listing = await web.get("/tiers")
    assert "Silver" in listing.text and "Speaker coaching" in listing.text
    tier_url = re.search(r'<a href="(/tiers/\d+)">Silver</a>', listing.text).group(1)
    assert 'value="1.25"' in (await web.get(tier_url)).text
    saved = await web.post(tier_url, {**TIER, "name": "Silver plus"})
    assert saved.status_code == 303
    assert "Silver plus" in (await web.get("/tiers")).text


async def test_rewards_create_edit_deactivate_and_filter(web, client):
    refused = await web.post("/rewards/new", {**REWARD, "cost_points": "0"})
    assert refused.status_code == 422 and field_error(refused.text, "cost_points")
    created = await web.post("/rewards/new", {**REWARD, "requires_approval": "true"})
    assert created.status_code == 303
    mug = await seed_reward(client, web.staff["headers"], "Mug", 100)

    listing = await web.get("/rewards")
    assert "Hoodie" in listing.text and "required" in listing.text and "unlimited" in listing.text
    edit = await web.get(f"/rewards/{mug['id']}")
    assert 'value="100"' in edit.text
    saved = await web.post(f"/rewards/{mug['id']}", {**REWARD, "name": "Big mug", "stock": "5"})
    assert saved.status_code == 303
    deactivated = await web.post(f"/rewards/{mug['id']}/deactivate")
    assert deactivated.status_code == 303
    withdrawn = await web.get("/rewards?active=false", headers=HTMX)
    assert "Big mug" in withdrawn.text and "Hoodie" not in withdrawn.text
    assert 'data-confirm="Stop offering “Hoodie”?' in listing.text
    assert f'action="/rewards/{mug["id"]}/reactivate"' in withdrawn.text

    reactivated = await web.post(f"/rewards/{mug['id']}/reactivate")
    assert reactivated.status_code == 303
    listing = await web.get("/rewards")
    assert "“Big mug” is offered again." in listing.text
    offered = await web.get("/rewards?active=true", headers=HTMX)
    assert "Big mug" in offered.text and "Hoodie" in offered.text
    assert (await web.post("/rewards/999/reactivate")).status_code == 404


async def test_viewer_and_csrf_refusals(open_web, web, client):
    mug = await seed_reward(client, web.staff["headers"], "Mug", 100)
    viewer = await open_web("viewer")
    listing = await viewer.get("/rewards")
    assert "Mug" in listing.text and "Deactivate" not in listing.text
    assert 'href="/tiers/new"' not in (await viewer.get("/tiers")).text
    refused = await viewer.post(f"/rewards/{mug['id']}/deactivate")
    assert refused.status_code == 403 and "You do not have permission" in refused.text
    await web.post(f"/rewards/{mug['id']}/deactivate")
    assert "Reactivate" not in (await viewer.get("/rewards")).text
    refused = await viewer.post(f"/rewards/{mug['id']}/reactivate")
    assert refused.status_code == 403
    assert 'value="Mug"' in (await viewer.get(f"/rewards/{mug['id']}")).text
    assert "Add reward" not in (await viewer.get(f"/rewards/{mug['id']}")).text
    for path in ("/tiers/new", "/rewards/new"):
        assert (await viewer.get(path)).status_code == 403, path
    assert (await viewer.post("/tiers/new", TIER)).status_code == 403
    assert "No tiers yet." in (await web.get("/tiers")).text
    assert "withdrawn" in (await web.get("/rewards?active=false", headers=HTMX)).text
    assert (await web.get("/tiers/999")).status_code == 404
    assert (await web.http.post("/tiers/new", data=TIER)).status_code == 403
