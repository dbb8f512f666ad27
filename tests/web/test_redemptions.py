"""The redemptions queue through the real API: requested first, decisions as htmx rows."""

import re

from tests.web.test_advocates import HTMX, seed_advocate, seed_reward


async def seed_redemption(api, headers, advocate_id: int, reward_id: int) -> dict:
    response = await api.post("/v1/redemptions", headers=headers,
                              json={"advocate_id": advocate_id, "reward_id": reward_id})
    assert response.status_code == 201, response.text
    return response.json()


async def seed_queue(client, headers) -> tuple[dict, dict]:
    advocate = await seed_advocate(client, headers, points=1000)
    hoodie = await seed_reward(client, headers, "Hoodie", 300, requires_approval=True)
    mug = await seed_reward(client, headers, "Mug", 100, requires_approval=True)
    return (await seed_redemption(client, headers, advocate["id"], hoodie["id"]),
            await seed_redemption(client, headers, advocate["id"], mug["id"]))


async def test_queue_shows_requested_first_and_filters(web, client):
    await seed_queue(client, web.staff["headers"])
    first = await web.get("/redemptions")
    assert first.status_code == 303 and first.headers["location"] == "/redemptions?status=requested"
    queue = await web.get(first.headers["location"])
    assert queue.status_code == 200 and "Hoodie" in queue.text and "Mug" in queue.text
    assert queue.text.count(">Approve</button>") == 2

    approved = await web.get("/redemptions?status=approved", headers=HTMX)
    assert approved.text.lstrip().startswith('<section id="results"')
    assert "No redemptions here." in approved.text


async def test_approve_fulfil_and_reject_update_the_row(web, client):
    hoodie, mug = await seed_queue(client, web.staff["headers"])
    await web.get("/redemptions?status=requested")

    approved = await web.post(f"/redemptions/{hoodie['id']}/approve", headers=HTMX)
    assert approved.status_code == 200
    assert approved.text.lstrip().startswith(f'<tr id="redemption-{hoodie["id"]}"')
    assert "badge-approved" in approved.text and ">Fulfil</button>" in approved.text
    fulfilled = await web.post(f"/redemptions/{hoodie['id']}/fulfil", headers=HTMX)
    assert "badge-fulfilled" in fulfilled.text and "<button" not in fulfilled.text

    no_reason = await web.post(f"/redemptions/{mug['id']}/reject", {"reason": ""}, headers=HTMX)
    assert no_reason.status_code == 422
    assert re.search(r'<p class="field-error" role="alert">[^<]+</p>', no_reason.text)
    assert "badge-requested" in no_reason.text
    rejected = await web.post(f"/redemptions/{mug['id']}/reject", {"reason": "Out of mugs"},
                              headers=HTMX)
    assert "badge-rejected" in rejected.text and "Out of mugs" in rejected.text

    again = await web.post(f"/redemptions/{mug['id']}/approve")  # no JavaScript
    assert again.status_code == 303
    assert 'class="flash"' in (await web.get("/redemptions?status=")).text


async def test_viewer_and_csrf_refusals(open_web, web, client):
    hoodie, _ = await seed_queue(client, web.staff["headers"])
    viewer = await open_web("viewer")
    queue = await viewer.get("/redemptions?status=requested")
    assert "Hoodie" in queue.text and ">Approve</button>" not in queue.text
    refused = await viewer.post(f"/redemptions/{hoodie['id']}/approve")
    assert refused.status_code == 403 and "You do not have permission" in refused.text

    no_token = await web.http.post(f"/redemptions/{hoodie['id']}/approve")
    assert no_token.status_code == 403 and "This form has expired" in no_token.text
    assert (await web.post(f"/redemptions/{hoodie['id']}/nonsense")).status_code == 404
