"""Relevance and impact against hand-counted communities X, Y and an empty Z (October 2026)."""

from datetime import date

import pytest
from pydantic import ValidationError

from shared.db import session_scope
from shared.metrics.impact_relevance import impact_relevance, quadrant
from shared.metrics.schemas import ImpactRelevanceWeights
from tests.metrics import world

OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))
EQUAL = ImpactRelevanceWeights(conversion=1, attendance=1, content=1, talks=1, referrals=1)


@pytest.fixture
async def communities() -> dict:
    """X: members m1 (old), m2 and m3 (new; m2 active); 5 activities of which 3 content kinds;
    1 event with 2 check-ins. Rates: conversion 1/2, attendance 2/event, content 2/3, talks
    1/3, referrals 1/3 per member (size 3). A banned member's 3 posts count nowhere.
    Y: new member n1, active; 2 activities (1 content; 1 with topic "ml"); 2 events, 1 check-in.
    Rates: conversion 1, attendance 0.5, nothing produced. Z: nothing at all."""
    x = await world.community("X")
    y = await world.community("Y")
    z = await world.community("Z")
    m1, m2, m3, n1 = [await world.member() for _ in range(4)]
    banned = await world.member(status="banned")
    await world.join(m1, x, "2026-09-01T10:00:00")
    await world.join(m2, x, "2026-10-05T10:00:00")
    await world.join(m3, x, "2026-10-06T10:00:00")
    await world.join(banned, x, "2026-10-06T10:00:00")
    await world.activities(banned, x, "content_published", "2026-10-07T10:00:00", 3)
    await world.activities(m1, x, "content_published", "2026-10-07T10:00:00", 2)
    await world.activity(m1, x, "talk_given", "2026-10-08T10:00:00")
    await world.activity(m1, x, "referral_converted", "2026-10-09T10:00:00")
    await world.activity(m2, x, "event_attended", "2026-10-10T20:00:00")
    await world.event(x, "2026-10-10T18:00:00", attendees=[m1, m2, banned])

    await world.join(n1, y, "2026-10-02T10:00:00")
    await world.activity(n1, y, "post_created", "2026-10-03T10:00:00")
    await world.activity(n1, y, "event_attended", "2026-10-04T20:00:00", topic="ml")
    await world.event(y, "2026-10-04T18:00:00", attendees=[n1])
    await world.event(y, "2026-10-20T18:00:00")
    return {"x": x, "y": y, "z": z}


async def _report(**kwargs):
    async with session_scope() as session:
        return await impact_relevance(session, *OCTOBER, kwargs.pop("weights", EQUAL), **kwargs)


async def test_inputs_scores_and_quadrants(communities):
    report = await _report()
    x, y, z = report.items
    assert [i.community_id for i in report.items] == [communities[k] for k in "xyz"]
    assert x.inputs.model_dump() == {
        "members": 3, "active_members": 2, "activities": 5, "focus_activities": 3,
        "new_members": 2, "new_members_active": 1, "events": 1, "attendance": 2,
        "content": 2, "talks": 1, "referrals": 1, "size": 3, "conversion_rate": 0.5,
        "attendance_per_event": 2.0, "content_per_member": 0.6667, "talks_per_member": 0.3333,
        "referrals_per_member": 0.3333}
    assert (y.inputs.conversion_rate, y.inputs.attendance_per_event) == (1.0, 0.5)
    # X is best on every input but conversion (0.5 of Y's 1): (0.5 + 1 + 1 + 1 + 1) / 5.
    assert (x.impact, x.relevance, x.quadrant) == (90.0, 60.0, "high-impact-high-relevance")
    # Y: conversion 1 of 1, attendance 0.5 of 2: (1 + 0.25) / 5; relevance 1 of 2 activities.
    assert (y.impact, y.relevance, y.quadrant) == (25.0, 50.0, "low-impact-high-relevance")
    assert (z.impact, z.relevance, z.quadrant) == (0.0, 0.0, "low-impact-low-relevance")
    assert report.focus_kinds == ["content_published", "post_created", "question_answered",
                                  "talk_given"]
    assert report.weights == EQUAL and "relevance = 100 * focus" in report.formula


async def test_weights_and_focus_change_the_scores(communities):
    only_conversion = ImpactRelevanceWeights(conversion=2, attendance=0, content=0, talks=0,
                                             referrals=0)
    report = await _report(weights=only_conversion, focus_kinds=["event_attended"],
                           focus_topics=["ml"], community_ids=[communities["y"],
                                                               communities["x"]])
    x, y = report.items
    assert (x.impact, y.impact) == (50.0, 100.0)
    # X: 1 attendance of 5 activities; Y: its attendance is also its "ml" topic: 1 of 2.
    assert (x.relevance, y.relevance) == (20.0, 50.0)
    assert (x.quadrant, y.quadrant) == ("high-impact-low-relevance",
                                        "high-impact-high-relevance")
    topics = await _report(focus_kinds=[], focus_topics=["ml"],
                           community_ids=[communities["y"]])
    assert topics.items[0].relevance == 50.0


def test_quadrants_split_at_fifty():
    assert quadrant(50, 50) == "high-impact-high-relevance"
    assert quadrant(49.9, 50) == "low-impact-high-relevance"
    assert quadrant(50, 49.9) == "high-impact-low-relevance"


@pytest.mark.parametrize("weights", [
    {"conversion": 0, "attendance": 0, "content": 0, "talks": 0, "referrals": 0},
    {"conversion": -1, "attendance": 1, "content": 1, "talks": 1, "referrals": 1},
])
def test_weights_are_non_negative_and_not_all_zero(weights):
    with pytest.raises(ValidationError):
        ImpactRelevanceWeights(**weights)
