"""A real headless Chromium (the system's, never a downloaded one) against live servers."""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.live import LiveServers, run_live_servers

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run the browser tests")
        pytest.skip(message)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM),
                                                   args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


@pytest.fixture(scope="package")
def live_servers(database: str, redis_url: str, tmp_path_factory) -> Iterator[LiveServers]:
    """Live servers for this package only: their worker must not outlive it, or it would run the
    jobs that later tests enqueue and expect to run themselves."""
    with run_live_servers(tmp_path_factory.mktemp("server-logs")) as servers:
        yield servers


@pytest.fixture
async def page(browser, live_servers) -> AsyncIterator:
    context = await browser.new_context(base_url=live_servers.web_url)
    context.set_default_timeout(10_000)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
async def signed_in(page, make_staff):
    """The page, signed in through the login form as a new admin."""
    staff = await make_staff("admin")
    await page.goto("/communities")
    await page.wait_for_url("**/login?next=*")
    await page.get_by_label("Email").fill(staff["email"])
    await page.get_by_label("Password").fill(staff["password"])
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/communities")
    return page
