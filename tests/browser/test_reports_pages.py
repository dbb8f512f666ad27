"""The reports dashboard in a real headless Chromium against the live API, web and worker: the
charts draw a point per community, a point opens that community's report, the period picker
swaps the report in place, "Build now" follows the run to its end, an export downloads a CSV."""

import re
import tempfile
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from tests.web.test_reports_pages import seed_reports_world

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir())
COMMUNITIES = 4


async def seed(live_servers, make_staff) -> list[dict]:
    headers = (await make_staff("admin"))["headers"]
    async with httpx.AsyncClient(base_url=live_servers.api_url) as api:
        return await seed_reports_world(api, headers, COMMUNITIES)


async def test_charts_draw_every_community_and_a_point_opens_its_report(
        signed_in, live_servers, make_staff):
    page = signed_in
    communities = await seed(live_servers, make_staff)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
    await page.wait_for_url("**/reports")

    quadrant = page.locator("svg#quadrant")
    await expect(quadrant).to_have_attribute("role", "img")
    await expect(quadrant.locator("a.point")).to_have_count(COMMUNITIES)
    await expect(page.locator("svg#activity g.bar")).to_have_count(COMMUNITIES)
    await expect(page.locator("svg#growth-members g.series")).to_have_count(2)
    await page.screenshot(path=SCREENSHOTS / "hearth-reports-dashboard.png", full_page=True)

    # The picker swaps the report in place: the page stays, the URL follows.
    await page.evaluate("window.hearthMarker = 'same page'")
    await page.get_by_role("link", name="Last 90 days").click()
    await expect(page).to_have_url(re.compile(r"/reports\?start=.*&end="))
    await expect(quadrant.locator("a.point")).to_have_count(COMMUNITIES)
    assert await page.evaluate("window.hearthMarker") == "same page"

    target = communities[1]
    point = quadrant.locator("a.point", has=page.locator("title", has_text="Chapter 1:"))
    await point.locator("circle").click()
    await page.wait_for_url(f"**/reports/communities/{target['id']}?*")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Chapter 1")
    await expect(page.locator("#health h2")).to_contain_text("of 100")
    await expect(page.locator("svg#rings g.bar")).to_have_count(3)
    await page.screenshot(path=SCREENSHOTS / "hearth-community-report.png", full_page=True)
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=SCREENSHOTS / "hearth-community-report-phone.png", full_page=True)


async def test_build_now_follows_the_run_and_an_export_downloads_a_csv(
        signed_in, live_servers, make_staff):
    page = signed_in
    communities = await seed(live_servers, make_staff)
    await page.goto(f"/reports/communities/{communities[0]['id']}")
    await page.get_by_label("Report", exact=True).select_option("engagement")
    await page.get_by_role("button", name="Build now").click()
    await page.wait_for_url(re.compile(r"/reports/runs/\d+$"))
    # The live worker builds it; the page polls the job until it is done.
    await expect(page.locator("#progress")).to_contain_text("Finished.", timeout=30_000)
    await expect(page.locator("#progress .badge")).to_have_text("done")
    await page.screenshot(path=SCREENSHOTS / "hearth-report-run.png", full_page=True)

    await page.goto("/reports")
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="All members").click()
    download = await waiting.value
    assert download.suggested_filename.endswith(".csv")
    text = Path(await download.path()).read_text()
    lines = text.strip().splitlines()
    assert lines[0].startswith("id,name,email")
    assert len(lines) == 1 + sum(range(1, COMMUNITIES + 1))
