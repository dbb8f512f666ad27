"""The reward calculation (services/worker/rewards.py) with exact, hand-computed balances for
each incentive kind. Incentives and activities go through the API; the pass runs in-process."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from services.api.incentives.schemas import EXAMPLES
from services.worker.rewards import process_batch, process_pending_activities, requeue_unqueued
from shared.db import session_scope
from shared.models import Activity, Advocate, LedgerEntry, Member, Referral
from tests.api.test_activities import (
    activity,
    make_advocate,
    make_community,
    make_member,
    make_tier,
    post_activities,
)

NOON = datetime(2026, 11, 10, 12, tzinfo=UTC)


async def make_incentive(client, headers: dict, kind: str = "points_rule", **changes) -> dict:
    response = await client.post("/v1/incentives", json={**EXAMPLES[kind], **changes},
                                 headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def balance(advocate_id: int) -> int:
    async with session_scope() as session:
        return (await session.get(Advocate, advocate_id)).balance


async def entries(**filters) -> list[tuple]:
    """(advocate_id, kind, points, activity_id, incentive_id, incentive_version), in id order."""
    query = select(LedgerEntry.advocate_id, LedgerEntry.kind, LedgerEntry.points,
                   LedgerEntry.activity_id, LedgerEntry.incentive_id,
                   LedgerEntry.incentive_version).order_by(LedgerEntry.id)
    for name, value in filters.items():
        query = query.where(getattr(LedgerEntry, name) == value)
    async with session_scope() as session:
        return [tuple(row) for row in (await session.exec(query)).all()]


async def outcomes(ids: list[int]) -> list[str | None]:
    async with session_scope() as session:
        found = dict((await session.exec(
            select(Activity.id, Activity.outcome).where(Activity.id.in_(ids)))).all())
    return [found[i] for i in ids]


async def assert_books_balance() -> None:
    """Every balance is the sum of its ledger; lifetime points the sum of what was earned."""
    async with session_scope() as session:
        advocates = (await session.exec(select(Advocate))).scalars().all()
        sums = dict((await session.exec(
            select(LedgerEntry.advocate_id, func.sum(LedgerEntry.points))
            .group_by(LedgerEntry.advocate_id))).all())
    for advocate in advocates:
        assert advocate.balance == advocate.lifetime_points == sums.get(advocate.id, 0)


@pytest.fixture(autouse=True)
async def books_balance_after_each_test():
    yield
    await assert_books_balance()


@pytest.mark.parametrize(("per", "times", "paid"), [
    # Berlin is UTC+1 in November. 22:30 UTC is 23:30 on the 10th; 23:30 UTC already the 11th.
    ("day", [(11, 10, 22, 30), (11, 10, 23, 30), (11, 11, 0, 15)], [True, True, False]),
    # Sunday 15th 23:30 local is still ISO week 46; 00:30 on Monday is week 47.
    ("week", [(11, 15, 22, 30), (11, 15, 23, 30), (11, 16, 10, 0)], [True, True, False]),
    # 23:30 local on 31 October, then 00:30 local on 1 November.
    ("month", [(10, 31, 22, 30), (10, 31, 23, 30), (11, 2, 10, 0)], [True, True, False]),
])
async def test_caps_count_in_the_community_time_zone(client, admin, per, times, paid):
    berlin = await make_community("Europe/Berlin")
    ada = await make_advocate()
    talks = await make_incentive(client, admin["headers"], cap={"max": 1, "per": per})
    ids = await post_activities(client, admin["headers"], *(
        activity(ada["member_id"], community_id=berlin,
                 at=datetime(2026, month, day, hour, minute, tzinfo=UTC))
        for month, day, hour, minute in times))
    assert await process_pending_activities() == 3
    assert await balance(ada["id"]) == 100 * sum(paid)
    assert await outcomes(ids) == ["awarded" if p else "capped" for p in paid]
    assert await entries() == [(ada["id"], "award", 100, i, talks["id"], 1)
                               for i, p in zip(ids, paid, strict=True) if p]


async def test_a_cap_orders_by_occurred_at_and_counts_earlier_runs(client, admin):
    ada = await make_advocate()
    await make_incentive(client, admin["headers"], cap={"max": 2, "per": "day"})
    first = await post_activities(client, admin["headers"],
                                  activity(ada["member_id"], at=NOON + timedelta(hours=5)))
    await process_pending_activities()
    # In one batch: the one that occurred first is paid; the cap holds with the earlier run's.
    later, earlier = await post_activities(
        client, admin["headers"], activity(ada["member_id"], at=NOON + timedelta(hours=3)),
        activity(ada["member_id"], at=NOON + timedelta(hours=1)))
    await process_pending_activities()
    assert await outcomes([*first, later, earlier]) == ["awarded", "capped", "awarded"]
    assert await balance(ada["id"]) == 200


async def test_tier_multipliers_and_promotion(client, admin):
    await make_tier("Bronze", 0, "1.000")
    gold = await make_tier("Gold", 150, "2.000")
    silver = await make_tier("Silver", 100_000, "1.150")
    ada, grace = await make_advocate("Ada"), await make_advocate("Grace", tier_id=silver)
    await make_incentive(client, admin["headers"], cap=None)
    await make_incentive(client, admin["headers"], name="Posts", activity_kind="post_created",
                         points=7, cap=None)
    await post_activities(client, admin["headers"], activity(ada["member_id"]),
                          activity(ada["member_id"]), activity(grace["member_id"]),
                          activity(grace["member_id"], kind="post_created"))
    await process_pending_activities()
    # A batch pays at the tier its advocates had when it began: Ada (no tier yet) earns 1x.
    # 1.15 x 100 = 115 and 1.15 x 7 = 8.05, floored to 8, alike on PostgreSQL and SQLite.
    assert await balance(ada["id"]) == 200 and await balance(grace["id"]) == 123
    async with session_scope() as session:
        assert (await session.get(Advocate, ada["id"])).tier_id == gold
    await post_activities(client, admin["headers"], activity(ada["member_id"]))
    await process_pending_activities()
    assert await balance(ada["id"]) == 400


async def test_milestone_once_at_the_nth_activity(client, admin):
    ada = await make_advocate()
    writer = await make_incentive(client, admin["headers"], "milestone")
    content = [activity(ada["member_id"], kind="content_published") for _ in range(4)]
    ids = await post_activities(client, admin["headers"], *content[:2])
    await process_pending_activities()
    assert await balance(ada["id"]) == 0
    ids += await post_activities(client, admin["headers"], *content[2:])
    await process_pending_activities()
    assert await entries() == [(ada["id"], "bonus", 250, ids[2], writer["id"], 1)]
    assert await outcomes(ids) == ["no_matching_incentive"] * 2 + [
        "awarded", "no_matching_incentive"]


async def test_first_n_ranks_by_occurred_at_then_id(client, admin):
    ada, bob, cy, dee = [await make_advocate(name) for name in ("Ada", "Bob", "Cy", "Dee")]
    pioneers = await make_incentive(client, admin["headers"], "first_n")  # n=2, 500 points

    def beta(advocate: dict, hour: int) -> dict:
        return activity(advocate["member_id"], kind="beta_feedback",
                        at=NOON + timedelta(hours=hour))

    # Ada reported first (lowest id) but it happened last; Bob and Cy tie on the time: the
    # lower id wins. Bob's second report does not count twice.
    ids = await post_activities(client, admin["headers"], beta(ada, 5), beta(bob, 1),
                                beta(cy, 1), beta(bob, 0))
    await process_pending_activities()
    assert await entries() == [(bob["id"], "bonus", 500, ids[3], pioneers["id"], 1),
                               (cy["id"], "bonus", 500, ids[2], pioneers["id"], 1)]
    # Once N are paid, an activity arriving later cannot displace them, even one that occurred
    # earlier.
    await post_activities(client, admin["headers"], beta(dee, -5))
    await process_pending_activities()
    assert [row[0] for row in await entries()] == [bob["id"], cy["id"]]


async def test_first_n_counts_across_batches(client, admin):
    pioneers = await make_incentive(client, admin["headers"], "first_n", n=3)
    advocates = [await make_advocate(f"A{i}") for i in range(5)]
    for advocate in advocates:  # one batch each
        await post_activities(client, admin["headers"],
                              activity(advocate["member_id"], kind="beta_feedback"))
        await process_batch()
    assert [row[0] for row in await entries(incentive_id=pioneers["id"])] == [
        advocate["id"] for advocate in advocates[:3]]


async def test_referrals_pay_the_referrer_or_are_refused(client, admin):
    referrer = await make_advocate("Rea", email="rea@example.org",
                                   identities=(("github", "ReaCodes"),))
    code = referrer["referral_code"]
    friend = await make_member("Fay", referred_by_code=code.lower())
    same_mailbox = await make_member("Rea Again", email="Rea+2@Example.org", referred_by_code=code)
    same_account = await make_member("Rea Alt", identities=(("github", "reacodes"),),
                                     referred_by_code=code)
    other_service = await make_member("Ray", identities=(("gitlab", "reacodes"),),
                                      referred_by_code=code)
    stranger = await make_member("Sam", referred_by_code="NO-SUCH-CODE")
    friend_of_a_friend = await make_member("Fox")
    bring = await make_incentive(client, admin["headers"], "referral")  # event_attended, 50
    # The referrer's own record says it was referred with its own code: a self-referral.
    async with session_scope() as session:
        await session.exec(update(Member).where(Member.id == referrer["member_id"])
                           .values(referred_by_code=code))

    members = [friend, same_mailbox, same_account, other_service, stranger, friend_of_a_friend,
               referrer["member_id"]]
    ids = await post_activities(client, admin["headers"],
                                *(activity(m, kind="event_attended") for m in members),
                                activity(friend, kind="event_attended"))
    await process_pending_activities()
    assert await entries() == [
        (referrer["id"], "bonus", 50, ids[0], bring["id"], 1),
        (referrer["id"], "bonus", 50, ids[3], bring["id"], 1),
    ]
    async with session_scope() as session:
        decided = {(r.referred_member_id, r.referrer_advocate_id, r.status, r.reason)
                   for r in (await session.exec(select(Referral))).scalars()}
    assert decided == {
        (friend, referrer["id"], "paid", None),
        (other_service, referrer["id"], "paid", None),
        (same_mailbox, referrer["id"], "refused", "shared_email"),
        (same_account, referrer["id"], "refused", "shared_identity"),
        (referrer["member_id"], referrer["id"], "refused", "self_referral"),
    }
    # A referred member who is no advocate still paid the referrer: that activity is "awarded".
    assert (await outcomes(ids))[:2] == ["awarded", "not_an_advocate"]
    # A refusal stands: the refused member's next activity pays nothing either.
    await post_activities(client, admin["headers"], activity(same_mailbox, kind="event_attended"))
    await process_pending_activities()
    assert await balance(referrer["id"]) == 100


async def test_who_earns_nothing_and_why(client, admin):
    await make_incentive(client, admin["headers"], cap=None)
    active, warned = await make_advocate("Ada"), await make_advocate("Wes", member_status="warned")
    paused = await make_advocate("Pat", status="paused")
    suspended = await make_advocate("Sue", member_status="suspended")
    banned = await make_advocate("Ben", member_status="banned")
    bystander = await make_member("Bea")
    members = [active["member_id"], warned["member_id"], paused["member_id"],
               suspended["member_id"], banned["member_id"], bystander]
    ids = await post_activities(client, admin["headers"],
                                *(activity(m) for m in members),
                                activity(active["member_id"], kind="mentoring_session"))
    await process_pending_activities()
    assert await outcomes(ids) == ["awarded", "awarded", "advocate_inactive", "member_suspended",
                                   "member_banned", "not_an_advocate", "no_matching_incentive"]
    assert [row[0] for row in await entries()] == [active["id"], warned["id"]]


async def test_nothing_is_paid_twice(client, admin):
    ada = await make_advocate()
    await make_incentive(client, admin["headers"], cap={"max": 2, "per": "day"})
    await make_incentive(client, admin["headers"], "milestone", activity_kind="talk_given")
    await make_incentive(client, admin["headers"], "first_n", activity_kind="talk_given")
    bodies = [activity(ada["member_id"], at=NOON + timedelta(hours=i)) for i in range(4)]
    await post_activities(client, admin["headers"], *bodies)
    assert await process_pending_activities() == 4
    paid = await entries()
    assert await balance(ada["id"]) == 2 * 100 + 250 + 500
    # The same activities again (a replay), the job again, and even every activity put back to
    # pending (which the sweep behind the queue finds and processes): the ledger's keys make each
    # of them a no-op.
    again = await client.post("/v1/activities/bulk", json={"items": bodies},
                              headers=admin["headers"])
    assert again.json()["duplicates"] == 4
    assert await process_pending_activities() == 0
    async with session_scope() as session:
        await session.exec(update(Activity).values(processed_at=None, outcome=None))
    assert await requeue_unqueued() == 4
    assert await process_pending_activities() == 0
    assert await entries() == paid
    assert await balance(ada["id"]) == 950


async def test_a_version_scores_what_was_received_while_it_was_in_force(client, admin):
    ada = await make_advocate()
    talks = await make_incentive(client, admin["headers"], cap=None)
    [before] = await post_activities(client, admin["headers"], activity(ada["member_id"]))
    edited = await client.patch(f"/v1/incentives/{talks['id']}", json={"points": 150},
                                headers=admin["headers"])
    assert edited.json()["version"] == 2
    [after] = await post_activities(client, admin["headers"], activity(ada["member_id"]))
    await process_pending_activities()  # both processed now, each by its own version
    assert await entries() == [(ada["id"], "award", 100, before, talks["id"], 1),
                               (ada["id"], "award", 150, after, talks["id"], 2)]


async def test_two_versions_in_one_batch_share_the_cap(client, admin):
    ada = await make_advocate()
    talks = await make_incentive(client, admin["headers"], cap={"max": 2, "per": "day"})
    before = await post_activities(client, admin["headers"], activity(ada["member_id"]),
                                   activity(ada["member_id"]))
    edited = await client.patch(f"/v1/incentives/{talks['id']}", json={"points": 150},
                                headers=admin["headers"])
    assert edited.json()["version"] == 2
    # Occurred first, but received under version 2: the day's two awards are already written.
    [after] = await post_activities(client, admin["headers"],
                                    activity(ada["member_id"],
                                             at=datetime(2026, 11, 20, 12, tzinfo=UTC)))
    await process_pending_activities()  # one batch, two versions of one capped incentive
    assert await entries() == [(ada["id"], "award", 100, id_, talks["id"], 1) for id_ in before]
    assert await outcomes([*before, after]) == ["awarded", "awarded", "capped"]


@pytest.mark.parametrize(("first_cap", "before", "second_cap", "after", "paid"), [
    # 9 November 2026 is a Monday. A week's cap, then a day's: the Tuesday already has its
    # award, the Wednesday not yet.
    ({"max": 1, "per": "week"}, [10], {"max": 1, "per": "day"}, [10, 11], [True, False, True]),
    # A day's cap, then a week's: Monday and Tuesday were paid under the first; the week is full.
    ({"max": 1, "per": "day"}, [9, 10], {"max": 2, "per": "week"}, [11], [True, True, False]),
])
async def test_a_new_cap_period_counts_the_awards_of_earlier_versions(
    client, admin, first_cap, before, second_cap, after, paid
):
    ada = await make_advocate()
    talks = await make_incentive(client, admin["headers"], cap=first_cap)

    async def process_days(days: list[int]) -> list[int]:
        ids = await post_activities(client, admin["headers"], *(
            activity(ada["member_id"], at=datetime(2026, 11, day, 12, tzinfo=UTC))
            for day in days))
        await process_pending_activities()
        return ids

    earlier = await process_days(before)
    edited = await client.patch(f"/v1/incentives/{talks['id']}", json={"cap": second_cap},
                                headers=admin["headers"])
    assert edited.status_code == 200 and edited.json()["version"] == 2
    later = await process_days(after)
    assert await outcomes([*earlier, *later]) == ["awarded" if p else "capped" for p in paid]
    assert await balance(ada["id"]) == 100 * sum(paid)


async def test_only_active_incentives_score(client, admin):
    ada = await make_advocate()
    await make_incentive(client, admin["headers"], status="draft")
    paused = await make_incentive(client, admin["headers"], name="Paused talks")
    await client.patch(f"/v1/incentives/{paused['id']}", json={"status": "paused"},
                       headers=admin["headers"])
    ids = await post_activities(client, admin["headers"], activity(ada["member_id"]))
    await process_pending_activities()
    assert await entries() == [] and await outcomes(ids) == ["no_matching_incentive"]


async def test_conditions_on_community_window_tier_and_properties(client, admin):
    berlin, lagos = await make_community("Europe/Berlin"), await make_community("Africa/Lagos")
    gold = await make_tier("Gold", 100_000, "1.000")
    ada, gil = await make_advocate("Ada"), await make_advocate("Gil", tier_id=gold)
    keynotes = await make_incentive(
        client, admin["headers"], name="Keynotes in Berlin", cap=None, community_ids=[berlin],
        tier_ids=[gold], properties={"format": "keynote"},
        starts_at=NOON.isoformat(), ends_at=(NOON + timedelta(days=1)).isoformat())
    keynote = {"community_id": berlin, "properties": {"format": "keynote"},
               "at": NOON + timedelta(hours=1)}
    ids = await post_activities(
        client, admin["headers"],
        activity(gil["member_id"], **keynote),                                   # paid
        activity(ada["member_id"], **keynote),                                   # not Gold
        activity(gil["member_id"], **{**keynote, "community_id": lagos}),        # not Berlin
        activity(gil["member_id"], **{**keynote, "properties": {"format": "lightning"}}),
        activity(gil["member_id"], **{**keynote, "at": NOON - timedelta(minutes=1)}),  # early
        activity(gil["member_id"], **{**keynote, "at": NOON + timedelta(days=1)}),     # late
    )
    await process_pending_activities()
    assert await entries() == [(gil["id"], "award", 100, ids[0], keynotes["id"], 1)]
