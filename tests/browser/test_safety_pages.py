"""The feedback board and the moderation queue in a real headless Chromium against the live API,
web and worker: acting in place with htmx, as staff do."""

import tempfile
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import expect

from shared.models.base import utcnow
from tests.api.advocacy import make_member
from tests.api.test_feedback import submit
from tests.api.test_moderation import report
from tests.browser.test_rewards_pages import nav

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(tempfile.gettempdir())


async def test_answer_feedback_and_move_its_status_in_place(signed_in, live_servers, make_staff):
    page = signed_in
    headers = (await make_staff("admin"))["headers"]
    async with httpx.AsyncClient(base_url=live_servers.api_url) as api:
        idea = await submit(api, headers, title="Mentoring track",
                            body="Pair newcomers with a mentor.")
        await submit(api, headers, kind="issue", title="Wifi keeps dropping")

    await nav(page, "Feedback").click()
    item = page.locator(f"#feedback-{idea['id']}")
    await expect(item).to_contain_text("new")
    await page.get_by_label("Kind").select_option("idea")
    await expect(page.locator("#results")).not_to_contain_text("Wifi keeps dropping")
    assert "kind=idea" in page.url

    await page.get_by_label("Answer to Mentoring track").fill("We start in January.")
    await page.get_by_role("button", name="Answer Mentoring track").click()
    await expect(item.locator(".response")).to_contain_text("We start in January.")
    await expect(page.get_by_role("button", name="Answer Mentoring track")).to_have_text(
        "Update answer")

    await page.get_by_label("New status of Mentoring track").select_option("under_review")
    await page.get_by_role("button", name="Change the status of Mentoring track").click()
    await expect(item.locator(".badge")).to_have_text("under_review")
    await expect(page.get_by_label("New status of Mentoring track")).to_contain_text("planned")
    assert "/feedback" in page.url and "kind=idea" in page.url  # never left the board
    await page.screenshot(path=SCREENSHOTS / "hearth-feedback-board.png", full_page=True)

    async with httpx.AsyncClient(base_url=live_servers.api_url) as api:
        stored = (await api.get(f"/v1/feedback/{idea['id']}", headers=headers)).json()
    assert stored["status"] == "under_review"
    assert stored["staff_response"] == "We start in January."


async def test_suspend_from_the_queue_and_see_the_history_update(signed_in, live_servers,
                                                                 make_staff):
    page = signed_in
    headers = (await make_staff("admin"))["headers"]
    troll = await make_member("Bo Troll")
    async with httpx.AsyncClient(base_url=live_servers.api_url) as api:
        first = await report(api, headers, troll, details="Rude reply in #help.")
        await report(api, headers, troll, details="Insults again.")

    await nav(page, "Moderation").click()
    await expect(page.get_by_label("Reported more than once")).to_contain_text("Bo Troll")
    await page.get_by_role("link", name=f"Open report {first['id']} about Bo Troll").click()
    detail = page.locator("#detail")
    await expect(detail).to_contain_text(f"Report {first['id']} about Bo Troll")
    await expect(detail.locator("#history")).to_contain_text("No moderation actions yet.")
    assert f"report={first['id']}" in page.url

    until = (utcnow() + timedelta(days=7)).date().isoformat()
    await page.get_by_label("Action").select_option("suspend")
    await page.get_by_label("Suspend until").fill(until)
    await page.get_by_label("Note", exact=True).fill("Second report in a week.")
    await page.get_by_role("button", name="Resolve").click()

    await expect(detail.locator("#standing")).to_contain_text(f"suspended until {until}")
    await expect(detail.locator("#history")).to_contain_text("active → suspended")
    await expect(detail.locator("#history")).to_contain_text("Second report in a week.")
    # The queue beside it redraws: the report is resolved and no longer a repeated one.
    await expect(page.locator(f"#report-{first['id']}")).to_contain_text("resolved")
    await expect(page.get_by_label("Reported more than once")).to_have_count(0)
    await page.screenshot(path=SCREENSHOTS / "hearth-moderation-queue.png", full_page=True)

    await page.get_by_label("Reinstate: note").fill("Appeal accepted.")
    await page.get_by_role("button", name="Reinstate Bo Troll").click()
    await expect(detail.locator("#history")).to_contain_text("suspended → active")
    await expect(detail.locator("#standing")).to_contain_text("active")
