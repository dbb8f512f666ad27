"""Real concurrent requests against one balance and one stock. Each request runs in its own
session and transaction (asyncio.gather over the ASGI app), so these exercise the row locks and
conditional UPDATEs of PostgreSQL; SQLite runs one writer at a time and proves nothing here."""

import asyncio
import os
from collections import Counter

import pytest
from sqlalchemy import select

from shared.db import session_scope
from shared.models import LedgerEntry
from tests.api.advocacy import (
    access_headers,
    make_advocate,
    make_reward,
    points_state,
    reward_stock,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("HEARTH_TEST_DATABASE_URL"),
    reason="concurrency under row locks is a PostgreSQL property; SQLite serializes writers")


async def test_twenty_redemptions_against_a_balance_for_three_and_a_stock_of_two(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=300)
    reward = await make_reward(client, h, cost_points=100, stock=2)
    me = await access_headers(client, h, advocate["id"])

    async def redeem(i: int):
        # Half through staff, half through the advocate's own link.
        if i % 2:
            return await client.post("/v1/me/redemptions", json={"reward_id": reward["id"]},
                                     headers=me)
        return await client.post("/v1/redemptions", json={
            "advocate_id": advocate["id"], "reward_id": reward["id"]}, headers=h)

    responses = await asyncio.gather(*(redeem(i) for i in range(20)))
    outcomes = Counter((r.status_code, r.json().get("type")) for r in responses)
    assert outcomes == {(201, None): 2, (409, "out-of-stock"): 18}
    assert await reward_stock(reward["id"]) == 0
    assert await points_state(advocate["id"]) == {"balance": 100, "ledger": 100, "lifetime": 300}


async def test_per_member_limit_holds_under_concurrent_requests(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=10_000)
    reward = await make_reward(client, h, cost_points=10, per_member_limit=2)
    responses = await asyncio.gather(*(
        client.post("/v1/redemptions", json={"advocate_id": advocate["id"],
                                             "reward_id": reward["id"]}, headers=h)
        for _ in range(15)))
    assert Counter(r.status_code for r in responses) == {201: 2, 409: 13}
    assert await points_state(advocate["id"]) == {"balance": 9_980, "ledger": 9_980,
                                                  "lifetime": 10_000}


async def test_concurrent_adjustments_never_overdraw(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=100)
    responses = await asyncio.gather(*(
        client.post(f"/v1/advocates/{advocate['id']}/adjustments",
                    json={"points": -30, "reason": "Concurrent correction"}, headers=h)
        for _ in range(12)))
    outcomes = Counter((r.status_code, r.json().get("type")) for r in responses)
    assert outcomes == {(201, None): 3, (409, "insufficient-points"): 9}
    state = await points_state(advocate["id"])
    assert state["balance"] == state["ledger"] == 10


async def test_concurrent_reject_and_cancel_refund_once(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=500)
    reward = await make_reward(client, h, cost_points=200, stock=5, requires_approval=True)
    me = await access_headers(client, h, advocate["id"])
    for _ in range(5):
        redemption = (await client.post("/v1/me/redemptions", json={"reward_id": reward["id"]},
                                        headers=me)).json()
        path = f"/v1/redemptions/{redemption['id']}"
        responses = await asyncio.gather(
            client.post(f"{path}/reject", json={"reason": "No"}, headers=h),
            client.post(f"{path}/cancel", headers=h),
            client.post(f"/v1/me/redemptions/{redemption['id']}/cancel", headers=me),
            client.post(f"{path}/reject", json={"reason": "No"}, headers=h),
        )
        assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
        async with session_scope() as session:
            refunds = (await session.exec(select(LedgerEntry).where(
                LedgerEntry.redemption_id == redemption["id"],
                LedgerEntry.kind == "refund"))).scalars().all()
        assert len(refunds) == 1
        assert await points_state(advocate["id"]) == {"balance": 500, "ledger": 500,
                                                      "lifetime": 500}
        assert await reward_stock(reward["id"]) == 5


async def test_concurrent_retries_with_one_idempotency_key_apply_once(client, admin):
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=100)
    reward = await make_reward(client, h, cost_points=10, stock=10)
    adjust_headers = {**h, "Idempotency-Key": "same-adjustment"}
    redeem_headers = {**h, "Idempotency-Key": "same-redemption"}
    responses = await asyncio.gather(*(
        client.post(f"/v1/advocates/{advocate['id']}/adjustments",
                    json={"points": 25, "reason": "Retried by the CRM"}, headers=adjust_headers)
        for _ in range(8)), *(
        client.post("/v1/redemptions", json={"advocate_id": advocate["id"],
                                             "reward_id": reward["id"]}, headers=redeem_headers)
        for _ in range(8)))
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses[:8]}) == 1
    assert len({r.json()["id"] for r in responses[8:]}) == 1
    assert await points_state(advocate["id"]) == {"balance": 115, "ledger": 115, "lifetime": 125}
    assert await reward_stock(reward["id"]) == 9


async def test_a_ban_racing_redemptions_leaves_none_of_them_holding_points(client, admin):
    """Each redemption either ran before the ban (and the ban cancelled it, refunding) or after
    it (and was refused): none slips between the ban's check and its cancellations."""
    h = admin["headers"]
    advocate = await make_advocate(client, h, points=1_000)
    reward = await make_reward(client, h, cost_points=10, requires_approval=True)
    filed = await client.post("/v1/moderation/reports", headers=h, json={
        "subject_member_id": advocate["member_id"], "reason": "spam"})

    async def ban():
        return await client.post(f"/v1/moderation/reports/{filed.json()['id']}/resolve",
                                 json={"action": "ban", "note": "Out"}, headers=h)

    async def redeem():
        return await client.post("/v1/redemptions", json={
            "advocate_id": advocate["id"], "reward_id": reward["id"]}, headers=h)

    responses = await asyncio.gather(*(redeem() for _ in range(6)), ban(),
                                     *(redeem() for _ in range(6)))
    assert responses[6].status_code == 200
    outcomes = Counter((r.status_code, r.json().get("type")) for r in responses[:6] + responses[7:])
    assert set(outcomes) <= {(201, None), (409, "member-banned")}
    listed = (await client.get("/v1/redemptions", params={"advocate_id": advocate["id"]},
                               headers=h)).json()["items"]
    assert len(listed) == outcomes[(201, None)]
    assert all(item["status"] == "cancelled" for item in listed)
    assert await points_state(advocate["id"]) == {"balance": 1_000, "ledger": 1_000,
                                                  "lifetime": 1_000}
