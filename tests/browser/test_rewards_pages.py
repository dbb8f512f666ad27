"""Staff rewards pages in a real headless Chromium against the live API, web and worker."""

import tempfile
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.web.test_advocates import seed_advocate, seed_reward, seed_tier
from tests.web.test_members import seed_member
from tests.web.test_redemptions import seed_redemption

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir())


def nav(page, name: str):
    """A link of the main navigation (breadcrumbs have links of the same names)."""
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name)


async def test_enrol_adjust_and_see_the_ledger(signed_in, live_servers, make_staff):
    page = signed_in
    headers = (await make_staff("admin"))["headers"]
    async with httpx.AsyncClient(base_url=live_servers.api_url) as api:
        await seed_tier(api, headers, "Bronze", 0)
        await seed_tier(api, headers, "Silver", 500)
        await seed_member(api, headers, name="Chi Obi", email="chi@example.org", handle=None)
        for number in range(3):
            await seed_advocate(api, headers, points=100 * (number + 1), name=f"Ada {number}",
                                email=f"ada{number}@example.org")

    await nav(page, "Advocates").click()
    await page.get_by_role("link", name="Enrol a member").click()
    await page.get_by_label("Find the member").fill("chi")
    await page.get_by_role("button", name="Enrol Chi Obi").click()
    await expect(page.get_by_role("status")).to_have_text("Chi Obi is now an advocate.")

    await page.get_by_label("Points", exact=True).fill("120")
    await page.get_by_role("button", name="Adjust").click()
    await expect(page.locator("#error-reason")).to_be_visible()  # the reason is required
    await page.get_by_label("Reason").fill("Meetup host bonus")
    await page.get_by_role("button", name="Adjust").click()
    await expect(page.locator("#balance")).to_have_text("120")
    await expect(page.locator("#ledger .entry").first).to_contain_text("Meetup host bonus")
    await expect(page.locator("#ledger .entry").first).to_contain_text("+120")

    await page.get_by_role("button", name="Issue an access link").click()
    link = await page.get_by_label("Access link").input_value()
    assert link.startswith(f"{live_servers.web_url}/a/")

    await nav(page, "Advocates").click()
    await page.get_by_label("Sort by").select_option("balance")
    await expect(page.locator("#results tbody tr").first).to_contain_text("Ada 2")
    await page.screenshot(path=SCREENSHOTS / "hearth-advocates-list.png", full_page=True)


async def test_create_an_incentive_and_see_it_listed(signed_in):
    page = signed_in
    await nav(page, "Incentives").click()
    await page.get_by_role("link", name="New incentive").click()
    await page.get_by_label("Kind").select_option("milestone")
    await expect(page.get_by_label("Pays at the Nth activity")).to_be_visible()
    await page.get_by_label("Name", exact=True).fill("Prolific writer")
    await page.get_by_label("Activity", exact=True).select_option("content_published")
    await page.get_by_label("Points", exact=True).fill("250")
    await page.get_by_label("Pays at the Nth activity").fill("3")
    await page.get_by_role("button", name="Create incentive").click()
    await expect(page.get_by_role("status")).to_contain_text("Prolific writer")
    await expect(page.get_by_text("Version history")).to_be_visible()
    await nav(page, "Incentives").click()
    await expect(page.locator("#results")).to_contain_text("Prolific writer")


async def test_approve_a_redemption_in_the_queue(signed_in, live_servers, make_staff):
    page = signed_in
    headers = (await make_staff("admin"))["headers"]
    async with httpx.AsyncClient(base_url=live_servers.api_url) as api:
        advocate = await seed_advocate(api, headers, points=500)
        hoodie = await seed_reward(api, headers, "Hoodie", 300, requires_approval=True)
        await seed_redemption(api, headers, advocate["id"], hoodie["id"])

    await nav(page, "Redemptions").click()
    row = page.locator("#results tbody tr").filter(has_text="Hoodie")
    await expect(row).to_contain_text("requested")
    await page.get_by_role("button", name="Approve Hoodie for Ada Lovelace").click()
    await expect(row).to_contain_text("approved")
    await page.get_by_role("button", name="Fulfil Hoodie for Ada Lovelace").click()
    await expect(row).to_contain_text("fulfilled")
