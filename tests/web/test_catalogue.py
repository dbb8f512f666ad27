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


async def test_viewer_and_csrf_refusals(open_web, web, client):
    mug = await seed_reward(client, web.staff["headers"], "Mug", 100)
    viewer = await open_web("viewer")
    listing = await viewer.get("/rewards")
    assert "Mug" in listing.text and "Deactivate" not in listing.text
    assert 'href="/tiers/new"' not in (await viewer.get("/tiers")).text
    refused = await viewer.post(f"/rewards/{mug['id']}/deactivate")
    assert refused.status_code == 403 and "You do not have permission" in refused.text
    assert (await web.http.post("/tiers/new", data=TIER)).status_code == 403
