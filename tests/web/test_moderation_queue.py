"""The moderation queue through the real API: open reports first, members reported more than once
flagged and gathered, the member's history beside the chosen report, resolutions and
reinstatement with their effects and refusals, and who may act."""

import re
from datetime import timedelta

from shared.models.base import utcnow
from tests.api.advocacy import make_member
from tests.api.test_moderation import member_status, report
from tests.web.test_advocates import HTMX


def report_rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="report-(\d+)"', html)]


async def seed_queue(client, headers) -> dict:
    """Three open reports about Bo, one about Cy, and one about Cy already dismissed."""
    bo, cy = await make_member("Bo Troll"), await make_member("Cy Spam")
    old = await report(client, headers, cy, reason="spam")
    dismissed = await client.post(f"/v1/moderation/reports/{old['id']}/resolve", headers=headers,
                                  json={"action": "dismiss", "note": "Not spam."})
    assert dismissed.status_code == 200, dismissed.text
    about_bo = [await report(client, headers, bo, details=f"Rude reply no. {n}")
                for n in range(3)]
    about_cy = await report(client, headers, cy, reason="spam")
    return {"bo": bo, "cy": cy, "dismissed": old, "about_bo": about_bo, "about_cy": about_cy}


async def test_open_reports_first_and_repeated_ones_flagged_together(web, client):
    seeded = await seed_queue(client, web.staff["headers"])
    page = await web.get("/moderation")
    assert page.status_code == 200 and "HX-Request" in page.headers["vary"]
    open_ids = [r["id"] for r in seeded["about_bo"]] + [seeded["about_cy"]["id"]]
    assert report_rows(page.text) == [*open_ids, seeded["dismissed"]["id"]]
    repeated = re.search(r'aria-label="Reported more than once">.*?</div>', page.text, re.S)
    assert repeated and "Bo Troll" in repeated.group(0) and "3 open reports" in repeated.group(0)
    assert "Cy Spam" not in repeated.group(0)  # one open report is no pattern
    assert page.text.count("3 open reports about this member") == 3
    assert "Open a report to see" in page.text

    together = await web.get(f"/moderation?subject_member_id={seeded['bo']}", headers=HTMX)
    assert together.text.lstrip().startswith('<section id="results"')
    assert report_rows(together.text) == [r["id"] for r in seeded["about_bo"]]
    resolved = await web.get("/moderation?status=resolved", headers=HTMX)
    assert report_rows(resolved.text) == [seeded["dismissed"]["id"]]
    spam = await web.get("/moderation?reason=spam&status=open")
    assert report_rows(spam.text) == [seeded["about_cy"]["id"]]
    refused = await web.get("/moderation?reason=rudeness", headers=HTMX)
    assert refused.status_code == 422 and "Reason:" in refused.text


async def test_the_chosen_report_shows_the_members_history(web, client):
    seeded = await seed_queue(client, web.staff["headers"])
    about_cy = seeded["about_cy"]
    detail = await web.get(f"/moderation/reports/{about_cy['id']}", headers=HTMX)
    assert detail.text.lstrip().startswith('<aside id="detail"')
    assert f"Report {about_cy['id']} about" in detail.text and "Cy Spam" in detail.text
    history = re.search(r'<ol class="ledger" id="history">.*?</ol>', detail.text, re.S).group(0)
    assert "dismiss" in history and "Not spam." in history and "active → active" in history
    assert "1 open, 2 in all" in detail.text

    # Without JavaScript the report opens beside the queue, on the queue's own page.
    plain = await web.get(f"/moderation/reports/{about_cy['id']}")
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/moderation?report={about_cy['id']}"
    page = await web.get(plain.headers["location"])
    assert '<section id="results"' in page.text and "Not spam." in page.text
    assert f'<tr id="report-{about_cy["id"]}" aria-current="true">' in page.text
    assert (await web.get("/moderation/reports/9999", headers=HTMX)).status_code == 404


async def test_suspend_then_reinstate_updates_standing_history_and_queue(web, client):
    h = web.staff["headers"]
    seeded = await seed_queue(client, h)
    first = seeded["about_bo"][0]
    await web.get(f"/moderation?report={first['id']}")
    until = (utcnow() + timedelta(days=10)).date().isoformat()

    no_end = await web.post(f"/moderation/reports/{first['id']}/resolve",
                            {"action": "suspend", "note": "Third strike.", "until": ""},
                            headers=HTMX)
    assert no_end.status_code == 422 and 'id="error-until"' in no_end.text
    assert "moderation-changed" not in no_end.headers.get("HX-Trigger", "")
    no_note = await web.post(f"/moderation/reports/{first['id']}/resolve",
                             {"action": "warn", "note": "", "until": ""}, headers=HTMX)
    assert no_note.status_code == 422 and 'id="error-note"' in no_note.text
    assert await member_status(seeded["bo"]) == ("active", None)

    suspended = await web.post(f"/moderation/reports/{first['id']}/resolve",
                               {"action": "suspend", "note": "Third strike.", "until": until},
                               headers=HTMX)
    assert suspended.status_code == 200 and suspended.headers["HX-Trigger"] == "moderation-changed"
    assert suspended.text.lstrip().startswith('<aside id="detail"')
    assert "badge-suspended" in suspended.text and f"until {until} 00:00 UTC" in suspended.text
    history = re.search(r'id="history">.*?</ol>', suspended.text, re.S).group(0)
    assert "suspend" in history and "active → suspended" in history and "Third strike." in history
    assert ">Resolve</button>" not in suspended.text and "Reinstate Bo Troll" in suspended.text
    status, ends = await member_status(seeded["bo"])
    assert status == "suspended" and ends.date().isoformat() == until

    queue = await web.get("/moderation", headers=HTMX)
    assert queue.text.count("2 open reports about this member") == 2
    rows = report_rows(queue.text)
    assert rows[:3] == [r["id"] for r in seeded["about_bo"][1:]] + [seeded["about_cy"]["id"]]
    assert sorted(rows[3:]) == sorted([first["id"], seeded["dismissed"]["id"]])

    again = await web.post(f"/moderation/reports/{first['id']}/resolve",
                           {"action": "ban", "note": "Again", "until": ""}, headers=HTMX)
    assert again.status_code == 409 and "resolved already" in again.text
    assert await member_status(seeded["bo"]) == ("suspended", ends)

    no_reason = await web.post(f"/moderation/reports/{first['id']}/reinstate", {"note": ""},
                               headers=HTMX)
    assert no_reason.status_code == 422 and 'id="reinstate-error"' in no_reason.text
    assert (await member_status(seeded["bo"]))[0] == "suspended"
    reinstated = await web.post(f"/moderation/reports/{first['id']}/reinstate",
                                {"note": "Appeal accepted."}, headers=HTMX)
    assert reinstated.status_code == 200 and "badge-active" in reinstated.text
    assert "reinstate" in reinstated.text and "suspended → active" in reinstated.text
    assert "Reinstate Bo Troll" not in reinstated.text
    assert await member_status(seeded["bo"]) == ("active", None)
    nothing_to_lift = await web.post(f"/moderation/reports/{first['id']}/reinstate",
                                     {"note": "Twice"}, headers=HTMX)
    assert nothing_to_lift.status_code == 409 and "nothing to lift" in nothing_to_lift.text


async def test_ban_and_warn_without_javascript_come_back_with_a_notice(web, client):
    seeded = await seed_queue(client, web.staff["headers"])
    banned = await web.post(f"/moderation/reports/{seeded['about_cy']['id']}/resolve",
                            {"action": "ban", "note": "Spam bot.", "until": ""},
                            headers={"Referer": "http://web.test/moderation?status=open"})
    assert banned.status_code == 303 and banned.headers["location"] == "/moderation?status=open"
    page = await web.get("/moderation?status=open")
    assert "Report resolved." in page.text
    assert await member_status(seeded["cy"]) == ("banned", None)
    refused = await web.post(f"/moderation/reports/{seeded['about_cy']['id']}/resolve",
                             {"action": "warn", "note": "Late", "until": ""})
    assert refused.status_code == 303
    assert "resolved already" in (await web.get(refused.headers["location"])).text
    assert await member_status(seeded["cy"]) == ("banned", None)


async def test_only_moderators_and_admins_act(open_web, web, client):
    seeded = await seed_queue(client, web.staff["headers"])
    target = seeded["about_cy"]["id"]
    for role in ("viewer", "manager"):
        staff = await open_web(role)
        page = await staff.get(f"/moderation?report={target}")
        assert page.status_code == 200 and "Cy Spam" in page.text, role
        assert ">Resolve</button>" not in page.text and "Reinstate" not in page.text
        refused = await staff.post(f"/moderation/reports/{target}/resolve",
                                   {"action": "ban", "note": "No", "until": ""})
        assert refused.status_code == 403 and "You do not have permission" in refused.text
    assert await member_status(seeded["cy"]) == ("active", None)

    moderator = await open_web("moderator")
    page = await moderator.get(f"/moderation?report={target}")
    assert ">Resolve</button>" in page.text
    warned = await moderator.post(f"/moderation/reports/{target}/resolve",
                                  {"action": "warn", "note": "Last chance.", "until": ""},
                                  headers=HTMX)
    assert warned.status_code == 200 and "badge-warned" in warned.text
    assert await member_status(seeded["cy"]) == ("warned", None)

    no_token = await web.http.post(f"/moderation/reports/{target}/reinstate",
                                   data={"note": "x"})
    assert no_token.status_code == 403 and "This form has expired" in no_token.text
    assert await member_status(seeded["cy"]) == ("warned", None)
    anonymous = await (await open_web(None)).get("/moderation")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
