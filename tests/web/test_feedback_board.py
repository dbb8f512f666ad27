"""The feedback board through the real API: filters, sorts and pages as htmx fragments, status
moves and answers in place (and their refusals), who may act, and the advocate seeing the answer
on their own page."""

import re

from tests.api.advocacy import make_member
from tests.api.test_events import make_community, make_event
from tests.api.test_feedback import submit
from tests.web.test_advocates import HTMX, seed_advocate
from tests.web.test_portal import open_portal


def titles(html: str) -> list[str]:
    return re.findall(r"<h2>([^<]+)</h2>", html)


def item(html: str, feedback_id: int) -> str:
    found = re.search(rf'<li class="card feedback" id="feedback-{feedback_id}">.*?</li>\n', html,
                      re.S)
    assert found, html
    return found.group(0)


async def vote(client, headers, feedback: dict, times: int) -> None:
    for _ in range(times):
        response = await client.post(f"/v1/feedback/{feedback['id']}/votes", headers=headers,
                                     json={"member_id": await make_member("Voter")})
        assert response.status_code == 201, response.text


async def stored(client, headers, feedback: dict) -> dict:
    return (await client.get(f"/v1/feedback/{feedback['id']}", headers=headers)).json()


async def seed_board(client, headers) -> dict:
    berlin = await make_community(client, headers, name="PyData Berlin")
    lagos = await make_community(client, headers, name="Rust Lagos")
    meetup = await make_event(client, headers, berlin["id"])
    feedback = {
        "mentoring": await submit(client, headers, title="Mentoring track",
                                  community_id=berlin["id"]),
        "wifi": await submit(client, headers, kind="issue", title="Wifi keeps dropping",
                             community_id=lagos["id"]),
        "rating": await submit(client, headers, kind="event", title=None, rating=4,
                               event_id=meetup["id"], body="Great talks, small room."),
        "streams": await submit(client, headers, title="Stream the talks",
                                community_id=lagos["id"]),
    }
    await vote(client, headers, feedback["mentoring"], 1)
    await vote(client, headers, feedback["streams"], 3)
    return {"berlin": berlin, "lagos": lagos, "meetup": meetup, **feedback}


async def test_filters_and_sorts_as_fragments_with_vote_counts(web, client):
    h = web.staff["headers"]
    seeded = await seed_board(client, h)
    page = await web.get("/feedback")
    assert page.status_code == 200 and "<html" in page.text and "HX-Request" in page.headers["vary"]
    assert titles(page.text) == ["Stream the talks", "Event feedback", "Wifi keeps dropping",
                                 "Mentoring track"]
    assert "<strong>3</strong> votes" in item(page.text, seeded["streams"]["id"])
    assert "<strong>1</strong> vote<" in item(page.text, seeded["mentoring"]["id"])
    assert "rated 4/5" in item(page.text, seeded["rating"]["id"])
    assert ">PyData Berlin</a>" in item(page.text, seeded["mentoring"]["id"])

    by_votes = await web.get("/feedback?sort=votes", headers=HTMX)
    assert by_votes.text.lstrip().startswith('<section id="results"')
    assert "<html" not in by_votes.text and "<form class=\"filters\"" not in by_votes.text
    assert titles(by_votes.text)[:2] == ["Stream the talks", "Mentoring track"]

    ideas = await web.get("/feedback?kind=idea&status=&community_id=&event_id=&sort=votes")
    assert titles(ideas.text) == ["Stream the talks", "Mentoring track"]
    assert '<option value="idea" selected>' in ideas.text  # the filters keep their state
    lagos = await web.get(f"/feedback?community_id={seeded['lagos']['id']}", headers=HTMX)
    assert titles(lagos.text) == ["Stream the talks", "Wifi keeps dropping"]
    event = await web.get(f"/feedback?event_id={seeded['meetup']['id']}", headers=HTMX)
    assert titles(event.text) == ["Event feedback"]
    await client.patch(f"/v1/feedback/{seeded['wifi']['id']}", json={"status": "under_review"},
                       headers=h)
    reviewed = await web.get("/feedback?status=under_review", headers=HTMX)
    assert titles(reviewed.text) == ["Wifi keeps dropping"]
    assert "No feedback matches." in (await web.get("/feedback?status=done")).text

    refused = await web.get("/feedback?event_id=soon&kind=rumour", headers=HTMX)
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert "Event:" in refused.text and "Kind:" in refused.text


async def test_pages_follow_the_cursor_and_keep_the_sort(web, client):
    from web.forms import PAGE_SIZE

    h = web.staff["headers"]
    for number in range(PAGE_SIZE + 1):
        await submit(client, h, title=f"Idea {number:02}")
    first = await web.get("/feedback?sort=votes")
    assert len(titles(first.text)) == PAGE_SIZE
    next_url = re.search(r'<a class="next" href="([^"]+)"', first.text).group(1)
    next_url = next_url.replace("&amp;", "&")
    assert "sort=votes" in next_url and "cursor=" in next_url
    second = await web.get(next_url, headers=HTMX)
    assert second.text.lstrip().startswith('<section id="results"')
    assert len(titles(second.text)) == 1 and 'class="next"' not in second.text
    assert not set(titles(second.text)) & set(titles(first.text))


async def test_status_moves_in_place_only_where_allowed(web, client):
    h = web.staff["headers"]
    idea = await submit(client, h, title="Mentoring track")
    board = await web.get("/feedback")
    offered = re.findall(r'<option value="(\w+)">', item(board.text, idea["id"]))
    assert offered == ["under_review", "declined"]

    moved = await web.post(f"/feedback/{idea['id']}/status", {"status": "under_review"},
                           headers=HTMX)
    assert moved.status_code == 200
    assert moved.text.lstrip().startswith(f'<li class="card feedback" id="feedback-{idea["id"]}"')
    assert "badge-under_review" in moved.text
    assert re.findall(r'<option value="(\w+)">', moved.text) == ["planned", "declined"]
    assert (await stored(client, h, idea))["status"] == "under_review"

    # A move the API refuses (a stale page, a crafted post) shows its message; nothing changes.
    skipped = await web.post(f"/feedback/{idea['id']}/status", {"status": "done"}, headers=HTMX)
    assert skipped.status_code == 409
    assert "cannot move to done (only to declined, planned)." in skipped.text
    assert 'role="alert"' in skipped.text and "badge-under_review" in skipped.text
    nonsense = await web.post(f"/feedback/{idea['id']}/status", {"status": "shipped"},
                              headers=HTMX)
    assert nonsense.status_code == 422 and 'role="alert"' in nonsense.text
    assert (await stored(client, h, idea))["status"] == "under_review"

    await client.patch(f"/v1/feedback/{idea['id']}", json={"status": "declined"}, headers=h)
    stale = await web.post(f"/feedback/{idea['id']}/status", {"status": "planned"},
                           headers=HTMX)
    assert stale.status_code == 409 and "it is closed" in stale.text
    assert "badge-declined" in stale.text and "Change status" not in stale.text

    # Without JavaScript: back to the board, with the outcome as its notice.
    other = await submit(client, h, title="Stream the talks")
    plain = await web.post(f"/feedback/{other['id']}/status", {"status": "declined"},
                           headers={"Referer": "http://web.test/feedback?kind=idea"})
    assert plain.status_code == 303 and plain.headers["location"] == "/feedback?kind=idea"
    assert "Status changed." in (await web.get("/feedback?kind=idea")).text


async def test_answers_in_place_and_the_advocate_sees_them(web, open_web, client):
    h = web.staff["headers"]
    advocate = await seed_advocate(client, h)
    idea = await submit(client, h, member_id=advocate["member_id"], title="Mentoring track")
    await web.get("/feedback")

    empty = await web.post(f"/feedback/{idea['id']}/answer", {"staff_response": "  "},
                           headers=HTMX)
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text
    assert (await stored(client, h, idea))["staff_response"] is None

    answered = await web.post(f"/feedback/{idea['id']}/answer",
                              {"staff_response": "We start in January."}, headers=HTMX)
    assert answered.status_code == 200 and "badge-new" in answered.text
    assert "Staff answer" in answered.text and "We start in January." in answered.text
    assert ">Update answer</button>" in answered.text
    after = await stored(client, h, idea)
    assert after["staff_response"] == "We start in January."
    assert after["responded_by_id"] == web.staff["id"] and after["first_response_at"]
    await web.post(f"/feedback/{idea['id']}/status", {"status": "under_review"}, headers=HTMX)

    visitor = await open_portal(open_web, client, h, advocate["id"])
    portal = await visitor.get("/a/")
    assert "My feedback" in portal.text and "Mentoring track" in portal.text
    assert "badge-under_review" in portal.text and "We start in January." in portal.text


async def test_portal_lists_more_feedback_on_demand(web, open_web, client):
    from web.forms import PAGE_SIZE

    h = web.staff["headers"]
    advocate = await seed_advocate(client, h)
    for number in range(PAGE_SIZE + 1):
        await submit(client, h, member_id=advocate["member_id"], title=f"Idea {number:02}")
    await submit(client, h, title="Someone else's idea")
    visitor = await open_portal(open_web, client, h, advocate["id"])
    portal = await visitor.get("/a/")
    assert f"Idea {PAGE_SIZE:02}" in portal.text and "Idea 00" not in portal.text
    assert "Someone else" not in portal.text
    more = re.search(r'<li class="more"><a class="button" href="(/a/feedback[^"]+)"',
                     portal.text).group(1)
    fragment = await visitor.get(more.replace("&amp;", "&"), headers=HTMX)
    assert fragment.text.lstrip().startswith('<li class="entry" id="feedback-')
    assert "Idea 00" in fragment.text and "<html" not in fragment.text
    whole = await visitor.get(more.replace("&amp;", "&"))
    assert "<html" in whole.text and "Idea 00" in whole.text and 'href="/members"' not in whole.text


async def test_moderators_and_managers_act_viewers_only_read(open_web, web, client):
    h = web.staff["headers"]
    ideas = [await submit(client, h, title=f"Idea {n}") for n in range(3)]
    for role, idea in zip(("moderator", "manager"), ideas, strict=False):
        staff = await open_web(role)
        board = await staff.get("/feedback")
        assert ">Answer</button>" in board.text and "Change status" in board.text
        moved = await staff.post(f"/feedback/{idea['id']}/status", {"status": "declined"},
                                 headers=HTMX)
        assert moved.status_code == 200 and "badge-declined" in moved.text, role

    viewer = await open_web("viewer")
    board = await viewer.get("/feedback")
    assert "Idea 2" in board.text
    assert "<textarea" not in board.text and "Change status" not in board.text
    for action, data in (("status", {"status": "under_review"}),
                         ("answer", {"staff_response": "Sure"})):
        refused = await viewer.post(f"/feedback/{ideas[2]['id']}/{action}", data)
        assert refused.status_code == 403 and "You do not have permission" in refused.text
    assert (await stored(client, h, ideas[2]))["status"] == "new"
    assert (await stored(client, h, ideas[2]))["staff_response"] is None

    no_token = await web.http.post(f"/feedback/{ideas[2]['id']}/status",
                                   data={"status": "under_review"})
    assert no_token.status_code == 403 and "This form has expired" in no_token.text
    assert (await web.post(f"/feedback/{ideas[2]['id']}/vote")).status_code == 404
    assert (await web.post("/feedback/9999/status", {"status": "declined"})).status_code == 404
    stranger = await open_web(None)
    anonymous = await stranger.get("/feedback")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
