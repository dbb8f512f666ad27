"""Catalogue and program pages in a real headless Chromium against the live API, web and worker:
tiers, rewards, the activity feed, an incentive's preview, and an advocate's participation."""

import httpx
import pytest
from playwright.async_api import expect

from tests.browser.test_rewards_pages import nav
from tests.web.test_advocates import seed_advocate, seed_reward
from tests.web.test_communities import seed as seed_community
from tests.web.test_members import seed_member

pytestmark = pytest.mark.browser


async def api_as_admin(live_servers, make_staff):
    """A client of the live API and an admin's headers, to set up what a test needs."""
    headers = (await make_staff("admin"))["headers"]
    return httpx.AsyncClient(base_url=live_servers.api_url), headers


async def seed_activities(api, headers, member_id: int, count: int, *, kind=None) -> None:
    community = await seed_community(api, headers)
    items = [{"member_id": member_id, "community_id": community["id"],
              "kind": kind or ("talk_given" if number == 0 else "post_created"),
              "occurred_at": f"2026-10-01T10:{number:02}:00+00:00", "source": "forum",
              "external_id": f"a-{number}"} for number in range(count)]
    stored = await api.post("/v1/activities/bulk", json={"items": items}, headers=headers)
    assert stored.status_code == 200, stored.text


def confirm_dialogs(page, answers: list[bool]) -> list[str]:
    """Answers the next confirm dialogs in order (accept or dismiss); returns their questions."""
    questions: list[str] = []

    async def answer(dialog):
        questions.append(dialog.message)
        await (dialog.accept() if answers.pop(0) else dialog.dismiss())

    page.on("dialog", answer)
    return questions


async def test_create_a_tier_and_see_the_advocate_promoted(signed_in, live_servers, make_staff):
    page = signed_in
    api, headers = await api_as_admin(live_servers, make_staff)
    async with api:
        advocate = await seed_advocate(api, headers, points=600)

    await nav(page, "Tiers").click()
    await page.get_by_role("link", name="New tier").click()
    await page.get_by_label("Name").fill("Silver")
    await page.get_by_label("From lifetime points").fill("500")
    await page.get_by_label("Points multiplier").fill("0")
    await page.get_by_role("button", name="Create tier").click()
    await expect(page.locator("#error-multiplier")).to_be_visible()
    await page.get_by_label("Points multiplier").fill("1.5")
    await page.get_by_role("button", name="Create tier").click()
    await expect(page.get_by_role("status")).to_have_text("Tier “Silver” created.")
    await expect(page.get_by_role("row").filter(has_text="Silver")).to_contain_text("1.5")

    await page.goto(f"/advocates/{advocate['id']}")
    await expect(page.locator(".facts")).to_contain_text("Silver")


async def test_create_a_reward_and_deactivate_it(signed_in):
    page = signed_in
    await nav(page, "Rewards").click()
    await page.get_by_role("link", name="New reward").click()
    await page.get_by_label("Name").fill("Conference ticket")
    await page.get_by_label("Cost in points").fill("2500")
    await page.get_by_label("Stock").fill("10")
    await page.get_by_label("Needs approval").check()
    await page.get_by_role("button", name="Add reward").click()
    await expect(page.get_by_role("status")).to_contain_text("Conference ticket")
    row = page.locator("#results tbody tr").filter(has_text="Conference ticket")
    await expect(row).to_contain_text("required")

    questions = confirm_dialogs(page, [False, True])
    deactivate = page.get_by_role("button", name="Deactivate Conference ticket")
    await deactivate.click()  # dismissed: nothing happens
    await expect(row).to_contain_text("yes")
    await deactivate.click()
    await expect(page.get_by_role("status")).to_contain_text("is no longer offered")
    await expect(row).to_contain_text("withdrawn")
    assert questions[0].startswith("Stop offering “Conference ticket”?")
    await page.get_by_role("button", name="Reactivate Conference ticket").click()
    await expect(row).to_contain_text("yes")


async def test_filter_the_activity_feed_and_load_more(signed_in, live_servers, make_staff):
    from web.forms import PAGE_SIZE

    page = signed_in
    api, headers = await api_as_admin(live_servers, make_staff)
    async with api:
        member = await seed_member(api, headers)
        await seed_activities(api, headers, member["id"], PAGE_SIZE + 3)

    await nav(page, "Activity").click()
    rows = page.locator("#results tbody tr:not(.load-more)")
    await expect(rows).to_have_count(PAGE_SIZE)
    await page.get_by_role("link", name="Load more").click()
    await expect(rows).to_have_count(PAGE_SIZE + 3)
    await expect(page.get_by_role("link", name="Load more")).to_have_count(0)

    await page.get_by_label("Kind").select_option("talk_given")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("talk given")
    assert "kind=talk_given" in page.url


async def test_preview_a_draft_incentive_until_the_job_finishes(signed_in, live_servers,
                                                                make_staff):
    page = signed_in
    api, headers = await api_as_admin(live_servers, make_staff)
    async with api:
        advocate = await seed_advocate(api, headers)
        await seed_activities(api, headers, advocate["member_id"], 3, kind="talk_given")

    await nav(page, "Incentives").click()
    await page.get_by_role("link", name="New incentive").click()
    await page.get_by_label("Name", exact=True).fill("Talks")
    await page.get_by_label("Activity", exact=True).select_option("talk_given")
    await page.get_by_label("Points", exact=True).fill("100")
    await page.get_by_label("Status").select_option("draft")
    await page.get_by_label("Cap: awards at most").fill("0")
    await page.get_by_role("button", name="Create incentive").click()
    # The cap's refusal stands next to the cap, not above the form.
    await expect(page.locator("#error-cap_max")).to_be_visible()
    await page.get_by_label("Cap: awards at most").fill("2")
    await page.get_by_label("Cap: per").select_option("day")
    await page.get_by_role("button", name="Create incentive").click()
    await expect(page.get_by_role("status")).to_contain_text("Talks")

    await page.get_by_label("From (UTC day)").fill("2026-10-01")
    await page.get_by_label("Until (UTC day, excluded)").fill("2026-11-01")
    await page.get_by_role("button", name="Preview").click()
    # The live worker runs the job; the page polls until it has finished.
    await expect(page.locator("#progress")).to_contain_text("succeeded", timeout=30_000)
    await expect(page.locator("#preview-awards")).to_have_text("2")  # capped at 2 a day
    await expect(page.locator("#preview-points")).to_have_text("200")
    award_row = page.locator("#progress tbody tr")
    await expect(award_row).to_have_count(1)
    await expect(award_row).to_contain_text("Ada Lovelace")


async def test_pause_resume_and_remove_an_advocate(signed_in, live_servers, make_staff):
    page = signed_in
    api, headers = await api_as_admin(live_servers, make_staff)
    async with api:
        advocate = await seed_advocate(api, headers, points=300)
        hoodie = await seed_reward(api, headers, "Hoodie", 100, requires_approval=True)
        redeemed = await api.post("/v1/redemptions", headers=headers, json={
            "advocate_id": advocate["id"], "reward_id": hoodie["id"]})
        assert redeemed.status_code == 201

    await page.goto(f"/advocates/{advocate['id']}")
    await expect(page.locator("#balance")).to_have_text("200")
    await page.get_by_role("button", name="Pause").click()
    await expect(page.get_by_role("status")).to_contain_text("Paused")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("paused")
    await page.get_by_role("button", name="Resume").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("active")

    questions = confirm_dialogs(page, [False, True])
    remove = page.get_by_role("button", name="Remove from the program")
    await remove.click()  # dismissed: still active
    await expect(page.get_by_role("heading", level=1)).to_contain_text("active")
    await remove.click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("removed")
    await expect(page.get_by_role("status")).to_contain_text("cancelled and refunded")
    await expect(page.locator("#balance")).to_have_text("300")
    await expect(page.get_by_role("button", name="Pause")).to_have_count(0)
    assert len(questions) == 2 and "Remove Ada Lovelace from the program?" in questions[0]
