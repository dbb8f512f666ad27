"""GET /v1/me/feedback: the advocate's own feedback with its status and staff answer, newest
first and in pages; nobody else's, and for nobody but the advocate's link."""

from tests.api.advocacy import make_member
from tests.api.test_feedback import move, submit
from tests.api.test_me import setup


async def test_i_see_my_feedback_newest_first_with_status_and_answer(client, admin):
    h = admin["headers"]
    advocate, me = await setup(client, admin)
    older = await submit(client, h, member_id=advocate["member_id"], title="More workshops")
    newer = await submit(client, h, member_id=advocate["member_id"], kind="issue",
                         title="Slides are missing")
    answered = await move(client, h, older, "under_review",
                          staff_response="We are looking for hosts.")
    assert answered.status_code == 200, answered.text

    response = await client.get("/v1/me/feedback", headers=me)
    assert response.status_code == 200
    items = response.json()["items"]
    assert [f["id"] for f in items] == [newer["id"], older["id"]]
    assert [(f["status"], f["staff_response"]) for f in items] == [
        ("new", None), ("under_review", "We are looking for hosts.")]
    assert items[1] == (await client.get(f"/v1/feedback/{older['id']}", headers=h)).json()


async def test_pages_follow_the_cursor(client, admin):
    h = admin["headers"]
    advocate, me = await setup(client, admin)
    given = [await submit(client, h, member_id=advocate["member_id"], title=f"Idea {n}")
             for n in range(3)]
    first = (await client.get("/v1/me/feedback", params={"limit": 2}, headers=me)).json()
    assert [f["title"] for f in first["items"]] == ["Idea 2", "Idea 1"]
    second = (await client.get("/v1/me/feedback", headers=me,
                               params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [f["id"] for f in second["items"]] == [given[0]["id"]]
    assert second["next_cursor"] is None
    bad = await client.get("/v1/me/feedback", params={"limit": 0}, headers=me)
    assert bad.status_code == 422
    garbage = await client.get("/v1/me/feedback", params={"cursor": "garbage"}, headers=me)
    assert garbage.status_code == 422


async def test_i_see_only_my_own_feedback(client, admin):
    h = admin["headers"]
    advocate, me = await setup(client, admin)
    other, other_me = await setup(client, admin)
    mine = await submit(client, h, member_id=advocate["member_id"], title="Mine")
    await submit(client, h, member_id=other["member_id"], title="Theirs")
    await submit(client, h, member_id=await make_member("Not an advocate"), title="Stranger's")
    assert [f["id"] for f in (await client.get("/v1/me/feedback", headers=me)).json()["items"]] \
        == [mine["id"]]
    theirs = (await client.get("/v1/me/feedback", headers=other_me)).json()["items"]
    assert [f["title"] for f in theirs] == ["Theirs"]
    # The filters of the staff list do not widen the advocate's view.
    widened = await client.get("/v1/me/feedback", headers=me,
                               params={"member_id": other["member_id"]})
    assert [f["id"] for f in widened.json()["items"]] == [mine["id"]]


async def test_nothing_given_is_an_empty_page(client, admin):
    _, me = await setup(client, admin)
    response = await client.get("/v1/me/feedback", headers=me)
    assert response.json() == {"items": [], "next_cursor": None}


async def test_staff_keys_strangers_and_removed_advocates_are_refused(client, admin, make_api_key,
                                                                      make_staff):
    h = admin["headers"]
    advocate, me = await setup(client, admin)
    await submit(client, h, member_id=advocate["member_id"])
    key = await make_api_key("feedback:read", "feedback:write")
    moderator = (await make_staff("moderator"))["headers"]
    assert (await client.get("/v1/me/feedback")).status_code == 401
    bogus = {"Authorization": "Bearer hat_not-a-real-token"}
    assert (await client.get("/v1/me/feedback", headers=bogus)).status_code == 401
    for staff in (h, moderator, key):
        refused = await client.get("/v1/me/feedback", headers=staff)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
    # The link reaches its own feedback only: the staff feedback list stays closed to it.
    assert (await client.get("/v1/feedback", headers=me)).status_code == 403
    await client.post(f"/v1/advocates/{advocate['id']}/remove", headers=h)
    assert (await client.get("/v1/me/feedback", headers=me)).status_code == 401
