from sqlalchemy import select

from shared.db import session_scope
from shared.models import LedgerEntry
from tests.api.advocacy import count_rows, make_advocate, points_state


async def adjust(client, headers, advocate_id, points, reason="Keynote at PyCon", **extra):
    return await client.post(f"/v1/advocates/{advocate_id}/adjustments",
                             json={"points": points, "reason": reason, **extra}, headers=headers)


async def test_an_adjustment_is_a_ledger_entry_naming_the_staff_user(client, admin):
    advocate = await make_advocate(client, admin["headers"], points=100)
    response = await adjust(client, admin["headers"], advocate["id"], 150, "  Paid late  ")
    assert response.status_code == 201
    entry = response.json()
    assert entry["kind"] == "adjustment" and entry["points"] == 150
    assert entry["reason"] == "Paid late"
    assert entry["staff_user"] == {"id": admin["id"], "name": "Admin"}
    assert await points_state(advocate["id"]) == {"balance": 250, "ledger": 250, "lifetime": 250}
    down = await adjust(client, admin["headers"], advocate["id"], -250, "Duplicate award")
    assert down.status_code == 201
    # A negative adjustment corrects earnings, so lifetime points follow it.
    assert await points_state(advocate["id"]) == {"balance": 0, "ledger": 0, "lifetime": 0}


async def test_an_overdraft_is_refused_and_writes_nothing(client, admin):
    advocate = await make_advocate(client, admin["headers"], points=100)
    response = await adjust(client, admin["headers"], advocate["id"], -101)
    assert response.status_code == 409
    assert response.json()["type"] == "insufficient-points"
    assert response.headers["content-type"] == "application/problem+json"
    assert await points_state(advocate["id"]) == {"balance": 100, "ledger": 100, "lifetime": 100}
    assert await count_rows(LedgerEntry) == 1


async def test_bad_input_is_refused_and_writes_nothing(client, admin):
    advocate = await make_advocate(client, admin["headers"], points=100)
    bad = [{"points": 0, "reason": "nothing"}, {"points": 5}, {"points": 5, "reason": "ab"},
           {"points": 5, "reason": "   ab   "}, {"points": 5, "reason": "x" * 501},
           {"points": "five", "reason": "abc"}, {"points": 1.5, "reason": "abc"},
           {"points": 10**12, "reason": "abc"}, {"reason": "abc"},
           {"points": 5, "reason": "abc", "staff_user_id": 1}]
    for body in bad:
        response = await client.post(f"/v1/advocates/{advocate['id']}/adjustments", json=body,
                                     headers=admin["headers"])
        assert response.status_code == 422, body
    missing = await adjust(client, admin["headers"], 999, 5)
    assert missing.status_code == 404
    assert await count_rows(LedgerEntry) == 1


async def test_an_api_key_adjustment_is_traceable_to_the_key(client, admin, make_api_key):
    advocate = await make_advocate(client, admin["headers"])
    key = await make_api_key("advocates:write")
    response = await adjust(client, key, advocate["id"], 20, "Imported from the old CRM")
    assert response.status_code == 201 and response.json()["staff_user"] is None
    async with session_scope() as session:
        stored = (await session.exec(select(LedgerEntry.idempotency_key))).scalars().one()
    assert stored.startswith("adjustment:api_key:")


async def test_refusals(client, admin, make_staff, make_api_key):
    advocate = await make_advocate(client, admin["headers"], points=10)
    for headers in [{}, (await make_staff("viewer"))["headers"],
                    (await make_staff("moderator"))["headers"],
                    await make_api_key("advocates:read", "rewards:write")]:
        response = await adjust(client, headers, advocate["id"], 5)
        assert response.status_code in (401, 403)
    assert await count_rows(LedgerEntry) == 1
    manager = (await make_staff("manager"))["headers"]
    assert (await adjust(client, manager, advocate["id"], 5)).status_code == 201


async def test_a_replay_with_the_same_idempotency_key_changes_nothing(client, admin):
    advocate = await make_advocate(client, admin["headers"], points=100)
    headers = {**admin["headers"], "Idempotency-Key": "adj-7"}
    first = await adjust(client, headers, advocate["id"], -40, "Returned the hoodie")
    again = await adjust(client, headers, advocate["id"], -40, "Returned the hoodie")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert await points_state(advocate["id"]) == {"balance": 60, "ledger": 60, "lifetime": 60}
    other = await adjust(client, headers, advocate["id"], -41, "Returned the hoodie")
    assert other.status_code == 422 and other.json()["type"] == "idempotency-key-reused"
    # A refusal is not remembered: the corrected request may reuse its key.
    retry_headers = {**admin["headers"], "Idempotency-Key": "adj-8"}
    refused = await adjust(client, retry_headers, advocate["id"], -500)
    assert refused.status_code == 409
    assert (await adjust(client, retry_headers, advocate["id"], -50)).status_code == 201
    assert await points_state(advocate["id"]) == {"balance": 10, "ledger": 10, "lifetime": 10}
    assert await count_rows(LedgerEntry) == 3
