"""Staff pages in a real headless Chromium against the live API, web and worker."""

import re
import tempfile
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir()) / "hearth-screenshots"
PHONE = {"width": 390, "height": 844}


async def screenshot(page, name: str) -> None:
    """Kept for a person to look at (and for CI to keep as artifacts): wide and phone-sized."""
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    size = page.viewport_size
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
    await page.set_viewport_size(size)


async def seed_community(live_servers, make_staff, **fields) -> None:
    staff = await make_staff("admin")
    body = {"name": "PyData Berlin", "slug": "pydata-berlin", "kind": "offline",
            "city": "Berlin", "country": "DE", "timezone": "Europe/Berlin",
            "tags": ["python", "data"], **fields}
    async with httpx.AsyncClient(base_url=live_servers.api_url) as api:
        response = await api.post("/v1/communities", json=body, headers=staff["headers"])
        assert response.status_code == 201, response.text


async def mark_page(page) -> None:
    """A value that survives htmx swaps but not a page load."""
    await page.evaluate("window.hearthMarker = 'same page'")


async def same_page(page) -> bool:
    return await page.evaluate("window.hearthMarker") == "same page"


async def test_sign_in_and_out(signed_in):
    page = signed_in
    await expect(page.locator(".who")).to_contain_text("Admin")
    await expect(page.get_by_role("link", name="Communities")).to_have_attribute(
        "aria-current", "page")
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/login")
    await expect(page.get_by_role("status")).to_have_text("You are signed out.")
    await page.goto("/members")
    await page.wait_for_url("**/login?next=%2Fmembers")


async def test_create_a_community_see_errors_inline_and_find_it(signed_in, live_servers,
                                                                make_staff):
    page = signed_in
    await page.get_by_role("link", name="New community").click()
    await page.get_by_label("Name", exact=True).fill("Rust Lagos")
    await page.get_by_label("Slug").fill("Not A Slug")
    await page.get_by_label("Country").fill("NG")
    await page.get_by_label("Time zone").fill("Mars/Base")
    await page.get_by_role("button", name="Create community").click()

    await expect(page.locator("#error-slug")).to_contain_text("String should match pattern")
    await expect(page.locator("#error-timezone")).to_contain_text("not an IANA time zone")
    await expect(page.get_by_label("Slug")).to_have_value("Not A Slug")
    await expect(page.get_by_label("Slug")).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Name", exact=True)).to_have_value("Rust Lagos")
    await screenshot(page, "community-form-errors")

    await page.get_by_label("Slug").fill("rust-lagos")
    await page.get_by_label("Time zone").fill("Africa/Lagos")
    await page.get_by_label("Kind").select_option("hybrid")
    await page.get_by_label("Tags").fill("rust, systems")
    await page.get_by_role("button", name="Create community").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Rust Lagos")
    await expect(page.get_by_role("status")).to_contain_text("Community “Rust Lagos” created.")

    await seed_community(live_servers, make_staff)
    await page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Communities").click()
    results = page.locator("#results")
    await expect(results.get_by_role("link", name="PyData Berlin")).to_be_visible()
    await expect(results.get_by_role("link", name="Rust Lagos")).to_be_visible()
    await screenshot(page, "communities")

    await mark_page(page)
    await page.get_by_role("searchbox").press_sequentially("lagos")
    await expect(results.get_by_role("link", name="PyData Berlin")).to_have_count(0)
    await expect(results.get_by_role("link", name="Rust Lagos")).to_be_visible()
    await expect(page).to_have_url(re.compile(r"/communities\?q=lagos&"))
    assert await same_page(page), "the search should swap the results, not reload the page"

    await page.get_by_role("searchbox").fill("")
    await page.get_by_label("Kind").select_option("offline")
    await expect(results.get_by_role("link", name="Rust Lagos")).to_have_count(0)
    await expect(results.get_by_role("link", name="PyData Berlin")).to_be_visible()
    assert await same_page(page)


MEMBERS_CSV = "name,email,country,community,role\n" + "".join(
    f"Member {n},member{n}@example.org,DE,pydata-berlin,member\n" for n in range(40)
) + "Broken,not-an-email,,,\nNo Such Place,nowhere@example.org,,atlantis,\n"


async def test_import_a_csv_and_watch_the_progress_bar_finish(signed_in, live_servers,
                                                              make_staff):
    page = signed_in
    await seed_community(live_servers, make_staff)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Import members")
    await screenshot(page, "import")

    await page.get_by_label("CSV file").set_input_files(
        files=[{"name": "members.csv", "mimeType": "text/csv",
                "buffer": MEMBERS_CSV.encode()}])
    await page.get_by_role("button", name="Upload and import").click()
    await page.wait_for_url("**/jobs/*")
    await mark_page(page)

    progress = page.locator("#progress")
    await expect(progress).to_contain_text("Finished.", timeout=30_000)
    bar = progress.locator("progress")
    await expect(bar).to_have_attribute("value", "42")
    await expect(bar).to_have_attribute("max", "42")
    await expect(progress.locator("li.created strong")).to_have_text("40")
    await expect(progress.locator("li.failed strong")).to_have_text("2")
    await expect(progress).to_contain_text("no community has the slug 'atlantis'")
    assert await same_page(page), "progress should be polled by htmx, not by reloading"
    await screenshot(page, "import-job")

    await page.get_by_role("link", name="Go to the members").click()
    await expect(page.locator("#results").get_by_role("link", name="Member 0",
                                                      exact=True)).to_be_visible()
