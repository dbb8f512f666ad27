"""The advocate's own page, opened by the access link, through the real API."""

import re

from tests.web.test_advocates import access_link, seed_advocate, seed_reward, seed_tier

HTMX = {"HX-Request": "true"}


async def open_portal(open_web, client, headers, advocate_id: int):
    """A fresh visitor (no staff sign-in) who opens the advocate's link."""
    visitor = await open_web(None)
    opened = await visitor.get(await access_link(client, headers, advocate_id))
    assert opened.status_code == 303 and opened.headers["location"] == "/a/"
    return visitor


async def test_link_shows_balance_tier_progress_and_the_explained_ledger(web, open_web, client):
    headers = web.staff["headers"]
    await seed_tier(client, headers, "Bronze", 0)
    await seed_tier(client, headers, "Silver", 500, perks=["Speaker coaching"])
    advocate = await seed_advocate(client, headers, points=200)
    visitor = await open_portal(open_web, client, headers, advocate["id"])

    page = await visitor.get("/a/")
    assert page.status_code == 200 and "HX-Request" in page.headers["vary"]
    assert '<strong id="balance">200</strong>' in page.text
    assert "Tier <strong>Bronze</strong>" in page.text
    assert "300 more points to reach <strong>Silver</strong>" in page.text
    assert 'value="200" max="500"' in page.text
    assert "Welcome bonus" in page.text and "+200" in page.text and "by Admin" in page.text
    # No staff navigation on the advocate's page.
    assert 'href="/members"' not in page.text


async def test_ledger_pages_with_more(web, open_web, client):
    from web.forms import PAGE_SIZE

    headers = web.staff["headers"]
    advocate = await seed_advocate(client, headers)
    for number in range(PAGE_SIZE + 2):
        response = await client.post(f"/v1/advocates/{advocate['id']}/adjustments",
                                     json={"points": 1, "reason": f"Thanks no. {number}"},
                                     headers=headers)
        assert response.status_code == 201
    visitor = await open_portal(open_web, client, headers, advocate["id"])

    page = await visitor.get("/a/")
    assert f"Thanks no. {PAGE_SIZE + 1}" in page.text and "Thanks no. 0<" not in page.text
    more = re.search(r'<li class="more"><a class="button" href="([^"]+)"', page.text).group(1)
    fragment = await visitor.get(more.replace("&amp;", "&"), headers=HTMX)
    assert fragment.text.lstrip().startswith('<li class="entry">')
    assert "Thanks no. 0<" in fragment.text and "<html" not in fragment.text
    assert 'class="more"' not in fragment.text


async def test_redeem_refusal_inline_then_cancel_refunds(web, open_web, client):
    headers = web.staff["headers"]
    advocate = await seed_advocate(client, headers, points=300)
    mug = await seed_reward(client, headers, "Mug", 100, requires_approval=True)
    ticket = await seed_reward(client, headers, "Ticket", 250, stock=1)
    visitor = await open_portal(open_web, client, headers, advocate["id"])
    page = await visitor.get("/a/")
    assert 'aria-label="Redeem Mug"' in page.text and 'aria-label="Redeem Ticket"' in page.text

    redeemed = await visitor.post(f"/a/rewards/{mug['id']}/redeem", headers=HTMX)
    assert redeemed.status_code == 200
    assert redeemed.text.lstrip().startswith('<div id="account"')
    assert '<strong id="balance">200</strong>' in redeemed.text
    assert "requested" in redeemed.text and 'aria-label="Cancel Mug"' in redeemed.text

    # The ticket was affordable when the page was drawn; now 200 < 250: refused in place.
    refused = await visitor.post(f"/a/rewards/{ticket['id']}/redeem", headers=HTMX)
    assert refused.status_code == 409
    assert refused.text.lstrip().startswith('<div id="account"')
    assert re.search(r'<p class="field-error" role="alert">[^<]+</p>', refused.text)
    assert "50 more points needed" in refused.text

    redemption_id = re.search(r'/a/redemptions/(\d+)/cancel', redeemed.text).group(1)
    cancelled = await visitor.post(f"/a/redemptions/{redemption_id}/cancel", headers=HTMX)
    assert cancelled.status_code == 200
    assert '<strong id="balance">300</strong>' in cancelled.text and "cancelled" in cancelled.text

    # Without JavaScript: a plain post, then back to the page with a notice.
    plain = await visitor.post(f"/a/rewards/{mug['id']}/redeem")
    assert plain.status_code == 303 and plain.headers["location"] == "/a/"
    assert "Redeemed." in (await visitor.get("/a/")).text


async def test_post_without_csrf_is_refused(web, open_web, client):
    headers = web.staff["headers"]
    advocate = await seed_advocate(client, headers, points=300)
    mug = await seed_reward(client, headers, "Mug", 100)
    visitor = await open_portal(open_web, client, headers, advocate["id"])
    await visitor.get("/a/")
    refused = await visitor.http.post(f"/a/rewards/{mug['id']}/redeem")
    assert refused.status_code == 403 and "This form has expired" in refused.text
    assert '<strong id="balance">300</strong>' in (await visitor.get("/a/")).text


async def test_expired_or_revoked_link_says_to_ask_for_a_new_one(web, open_web, client):
    headers = web.staff["headers"]
    advocate = await seed_advocate(client, headers)
    unknown = await open_web(None)
    await unknown.get("/a/not-a-real-token")
    page = await unknown.get("/a/")
    assert page.status_code == 401 and "Ask your community team for a new link" in page.text

    visitor = await open_portal(open_web, client, headers, advocate["id"])
    assert (await visitor.get("/a/")).status_code == 200
    revoked = await client.post(f"/v1/advocates/{advocate['id']}/access-links/revoke",
                                headers=headers)
    assert revoked.status_code == 200
    assert (await visitor.get("/a/")).status_code == 401


async def test_advocate_and_staff_sessions_stay_apart(web, open_web, client):
    headers = web.staff["headers"]
    advocate = await seed_advocate(client, headers, points=10)
    visitor = await open_portal(open_web, client, headers, advocate["id"])
    # The advocate's session opens no staff page: those want a staff sign-in.
    staff_page = await visitor.get("/advocates")
    assert staff_page.status_code == 303 and "/login" in staff_page.headers["location"]

    # A staff session's token never serves the advocate's page.
    staff_only = await web.get("/a/")
    assert staff_only.status_code == 401 and "Ada Lovelace" not in staff_only.text
    # Both in one session: each side keeps its own token.
    await web.get(await access_link(client, headers, advocate["id"]))
    assert '<strong id="balance">10</strong>' in (await web.get("/a/")).text
    assert (await web.get("/members")).status_code == 200
