"""Event pages in a real headless Chromium against the live API, web and worker: create an event,
check a member in at the door with the live count, and upload an attendee CSV."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.test_pages import mark_page, same_page, screenshot, seed_community

pytestmark = pytest.mark.browser

BERLIN = ZoneInfo("Europe/Berlin")
ATTENDEES = ("name,email\n"
             "Ada Lovelace,ada@example.org\n"
             "Grace Hopper,grace@example.org\n"
             "Broken,not-an-email\n")


def local_input(moment: datetime) -> str:
    """How <input type="datetime-local"> takes a time: the community's local wall clock."""
    return moment.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


async def test_create_an_event_check_in_at_the_door_and_upload_attendees(
        signed_in, live_servers, make_staff):
    page = signed_in
    await seed_community(live_servers, make_staff,
                         code_of_conduct_url="https://example.org/coc")
    staff = await make_staff("admin")
    async with httpx.AsyncClient(base_url=live_servers.api_url) as api:
        member = await api.post("/v1/members", headers=staff["headers"],
                                json={"name": "Ada Lovelace", "email": "ada@example.org"})
        assert member.status_code == 201, member.text

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Events").click()
    await page.wait_for_url("**/events?when=upcoming")
    await page.get_by_role("link", name="New event").click()
    # Check-in opens a day before the start: an event in an hour can take arrivals now.
    starts = datetime.now(BERLIN) + timedelta(hours=1)
    await page.get_by_label("Community").select_option(label="PyData Berlin")
    await page.get_by_label("Title").fill("Winter meetup")
    await page.get_by_label("Starts").fill(local_input(starts))
    await page.get_by_label("Ends").fill(local_input(starts - timedelta(hours=1)))
    await page.get_by_role("button", name="Create event").click()
    await expect(page.locator("#error-ends_at")).to_have_text("must be after starts_at")
    await expect(page.locator("#error-venue")).to_contain_text("required for in-person")
    await expect(page.get_by_label("Title")).to_have_value("Winter meetup")

    await page.get_by_label("Ends").fill(local_input(starts + timedelta(hours=2)))
    await page.get_by_label("Venue").fill("Factory Berlin")
    await page.get_by_role("button", name="Create event").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Winter meetup")
    await expect(page.get_by_role("status")).to_contain_text("Event “Winter meetup” created.")

    await page.get_by_role("link", name="Check-in").click()
    count = page.locator("#attendance-count")
    await expect(count).to_have_text("0")
    await mark_page(page)
    await page.get_by_role("searchbox").press_sequentially("ada")
    check_in_ada = page.get_by_role("button", name="Check in Ada Lovelace")
    await check_in_ada.click()
    await expect(page.locator(".check-in-row").first).to_contain_text("Checked in.")
    await expect(count).to_have_text("1")
    await check_in_ada.click()
    await expect(page.locator(".check-in-row").first).to_contain_text(
        "Already checked in: nothing changed.")
    await expect(count).to_have_text("1")
    assert await same_page(page), "checking in should swap the row, not reload the page"
    await screenshot(page, "event-check-in")

    await page.get_by_label("Attendee CSV").set_input_files(files=[{
        "name": "attendees.csv", "mimeType": "text/csv", "buffer": ATTENDEES.encode()}])
    await page.get_by_role("button", name="Upload and check in").click()
    result = page.locator("#csv-result")
    await expect(result.locator("tbody tr")).to_have_count(3)
    await expect(result.locator("tbody tr").nth(0)).to_contain_text("already checked in")
    await expect(result.locator("tbody tr").nth(1)).to_contain_text("created")
    await expect(result.locator("tbody tr").nth(2)).to_contain_text("not a valid email address")
    await expect(count).to_have_text("2")
    assert await same_page(page)
    await screenshot(page, "event-attendee-upload")

    await page.locator(".crumbs").get_by_role("link", name="Winter meetup").click()
    await expect(page.locator(".counts")).to_contain_text("2checked in")
    await page.get_by_role("link", name="calendar").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("PyData Berlin")
    calendar = page.locator(".calendar")
    await expect(calendar.get_by_role("link", name="Winter meetup")).to_be_visible()
    await screenshot(page, "event-calendar")
