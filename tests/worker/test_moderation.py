"""Suspensions end by the worker's cron: the member is active again, the history says so, and a
second run changes nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from services.worker.moderation import end_suspensions
from shared.db import session_scope
from shared.models import Member, ModerationAction
from shared.models.base import utcnow
from tests.api.advocacy import make_member

# arq closes its pool with a call redis-py deprecated; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning")


async def suspend(client, headers, member_id: int) -> None:
    filed = await client.post("/v1/moderation/reports", headers=headers,
                              json={"subject_member_id": member_id, "reason": "spam"})
    resolved = await client.post(
        f"/v1/moderation/reports/{filed.json()['id']}/resolve", headers=headers,
        json={"action": "suspend", "note": "A week off.",
              "until": (utcnow() + timedelta(days=7)).isoformat()})
    assert resolved.status_code == 200, resolved.text


async def let_time_pass(member_id: int, ago: timedelta) -> None:
    """Moves the end of a suspension into the past, as waiting for it would."""
    async with session_scope() as session:
        await session.exec(update(Member).where(Member.id == member_id)
                           .values(suspended_until=utcnow() - ago))


async def standing(member_id: int) -> tuple[str, object]:
    async with session_scope() as session:
        member = await session.get(Member, member_id)
        return member.status, member.suspended_until


async def ended_actions() -> list[ModerationAction]:
    async with session_scope() as session:
        return list((await session.exec(
            select(ModerationAction).where(ModerationAction.action == "suspension_ended")
            .order_by(ModerationAction.member_id))).scalars().all())


async def test_ended_suspensions_return_members_to_active_once(client, admin):
    h = admin["headers"]
    over, still, lifted = (await make_member("Over"), await make_member("Still"),
                           await make_member("Lifted"))
    for member_id in (over, still, lifted):
        await suspend(client, h, member_id)
    await let_time_pass(over, timedelta(minutes=1))
    await let_time_pass(lifted, timedelta(hours=1))
    # Reinstated by a moderator before the cron came round: nothing left for the cron to end.
    reinstated = await client.post(f"/v1/moderation/members/{lifted}/reinstate",
                                   json={"note": "Appeal accepted."}, headers=h)
    assert reinstated.status_code == 200

    assert await end_suspensions() == 1
    assert await standing(over) == ("active", None)
    assert (await standing(still))[0] == "suspended"
    assert await standing(lifted) == ("active", None)
    [ended] = await ended_actions()
    assert (ended.member_id, ended.previous_status, ended.new_status) == (
        over, "suspended", "active")
    assert ended.until is not None and ended.until < utcnow()
    assert ended.staff_user_id is None and ended.report_id is None

    assert await end_suspensions() == 0
    assert len(await ended_actions()) == 1
    response = await client.get(f"/v1/moderation/members/{over}/history", headers=h)
    assert [a["action"] for a in response.json()["items"]] == ["suspension_ended", "suspend"]


async def test_the_real_worker_runs_the_cron(client, admin, run_worker):
    member_id = await make_member()
    await suspend(client, admin["headers"], member_id)
    await let_time_pass(member_id, timedelta(seconds=1))
    await run_worker()
    assert await standing(member_id) == ("active", None)
    assert len(await ended_actions()) == 1
