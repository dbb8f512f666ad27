"""The advocate's page in a real headless Chromium on a phone-sized screen, against the live
API, web and worker."""

import tempfile
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.web.test_advocates import access_link, seed_advocate, seed_reward, seed_tier

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir())
PHONE = {"width": 390, "height": 844}


async def test_open_link_on_a_phone_redeem_and_cancel(browser, live_servers, make_staff):
    staff = await make_staff("admin")
    headers = staff["headers"]
    async with httpx.AsyncClient(base_url=live_servers.api_url) as api:
        await seed_tier(api, headers, "Bronze", 0)
        await seed_tier(api, headers, "Silver", 1000, perks=["Speaker coaching"])
        advocate = await seed_advocate(api, headers, points=400)
        await seed_reward(api, headers, "Sticker pack", 150, requires_approval=True,
                          description="Laptop stickers of every community.")
        await seed_reward(api, headers, "Conference ticket", 2500)
        link = await access_link(api, headers, advocate["id"])

    context = await browser.new_context(base_url=live_servers.web_url, viewport=PHONE,
                                        is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        await page.goto(link)
        await page.wait_for_url("**/a/")  # the token left the address bar
        await expect(page.locator("#balance")).to_have_text("400")
        await expect(page.locator("#next-tier")).to_contain_text("600 more points to reach Silver")
        await expect(page.get_by_label("Progress to Silver")).to_have_attribute("value", "400")
        await expect(page.get_by_text("Welcome bonus")).to_be_visible()
        await expect(page.get_by_text("2100 more points needed")).to_be_visible()
        # Nothing wider than the phone: no sideways scrolling.
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        await page.screenshot(path=SCREENSHOTS / "hearth-advocate-page-390.png", full_page=True)

        await page.evaluate("window.hearthMarker = 'same page'")
        await page.get_by_role("button", name="Redeem Sticker pack").click()
        await expect(page.locator("#balance")).to_have_text("250")
        redemption = page.locator("#redemptions .reward").filter(has_text="Sticker pack")
        await expect(redemption).to_contain_text("requested")
        await expect(page.locator("#ledger")).to_contain_text("-150")

        await page.get_by_role("button", name="Cancel Sticker pack").click()
        await expect(page.locator("#balance")).to_have_text("400")
        await expect(redemption).to_contain_text("cancelled")
        await expect(page.locator("#ledger .entry").first).to_contain_text("+150")
        # htmx swapped the parts: it was all one page.
        assert await page.evaluate("window.hearthMarker") == "same page"
    finally:
        await context.close()
