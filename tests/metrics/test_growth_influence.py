"""Growth buckets and influence rings against hand-counted activity."""

from datetime import date

import pytest

from shared.db import session_scope
from shared.metrics.growth import bucket_starts, growth
from shared.metrics.influence import influence, onion
from shared.metrics.schemas import GrowthInterval
from tests.metrics import world


def _rows(report) -> list[tuple]:
    return [(b.start.isoformat(), b.end.isoformat(), b.new_members, b.active_members,
             b.activities, b.activities_per_active_member) for b in report.buckets]


@pytest.fixture
async def g() -> int:
    c = await world.community()
    m1, m2, m3, m4, m5 = [await world.member() for _ in range(5)]
    banned = await world.member(status="banned")
    await world.join(m5, c, "2026-09-30T23:59:59")
    await world.join(m1, c, "2026-10-02T10:00:00")
    await world.join(m2, c, "2026-10-05T00:00:00")
    await world.join(m3, c, "2026-10-20T23:59:59")
    await world.join(banned, c, "2026-10-06T00:00:00")
    await world.join(m4, c, "2026-11-02T00:00:00")
    await world.activities(m1, c, "post_created", "2026-10-03T10:00:00", 2)
    await world.activity(m1, c, "post_created", "2026-10-06T10:00:00")
    await world.activities(m2, c, "post_created", "2026-10-11T23:59:59", 3)
    await world.activities(banned, c, "post_created", "2026-10-07T10:00:00", 4)
    await world.activity(m5, c, "post_created", "2026-10-12T00:00:00")
    await world.activity(m1, c, "post_created", "2026-10-21T08:00:00+09:00")  # Oct 20, UTC
    await world.activity(m2, c, "post_created", "2026-10-21T00:00:00")
    return c


async def test_weekly_buckets_clipped_to_the_period(g):
    async with session_scope() as session:
        report = await growth(session, g, date(2026, 10, 1), date(2026, 10, 20),
                              GrowthInterval.week)
    assert _rows(report) == [
        ("2026-10-01", "2026-10-04", 1, 1, 2, 2.0),
        ("2026-10-05", "2026-10-11", 1, 2, 4, 2.0),
        ("2026-10-12", "2026-10-18", 0, 1, 1, 1.0),
        ("2026-10-19", "2026-10-20", 1, 1, 1, 1.0),
    ]


async def test_monthly_buckets_for_the_whole_program(g):
    async with session_scope() as session:
        report = await growth(session, None, date(2026, 9, 15), date(2026, 11, 10),
                              GrowthInterval.month)
    assert report.community_id is None and report.interval == "month"
    assert _rows(report) == [
        ("2026-09-15", "2026-09-30", 1, 0, 0, 0.0),
        ("2026-10-01", "2026-10-31", 3, 3, 9, 3.0),
        ("2026-11-01", "2026-11-10", 1, 0, 0, 0.0),
    ]


def test_bucket_starts():
    assert bucket_starts(date(2026, 1, 31), date(2026, 3, 1), GrowthInterval.month) == [
        date(2026, 1, 31), date(2026, 2, 1), date(2026, 3, 1), date(2026, 3, 2)]
    assert bucket_starts(date(2026, 10, 5), date(2026, 10, 5), GrowthInterval.week) == [
        date(2026, 10, 5), date(2026, 10, 6)]


async def test_influence_scores_decay_and_rings():
    """Half-life 10 days, end Oct 31. a: talk today 10 + post 10 days old 0.5 = 10.5; b: content
    10 days old 3 + post 20 days old 0.25 = 3.25; c: attended today 2; d: feedback today 1;
    e: post 30 days old 0.125. Total 16.875: shares above c 81%, above d 93%, above e 99%."""
    c = await world.community()
    a, b, cc, d, e = [await world.member(name) for name in "abcde"]
    banned = await world.member("banned", status="banned")
    await world.activity(a, c, "talk_given", "2026-10-31T23:59:59")
    await world.activity(a, c, "post_created", "2026-10-22T08:00:00+09:00")  # Oct 21, UTC
    await world.activity(b, c, "content_published", "2026-10-21T10:00:00")
    await world.activity(b, c, "post_created", "2026-10-11T10:00:00")
    await world.activity(cc, c, "event_attended", "2026-10-31T10:00:00")
    await world.activity(d, c, "feedback_submitted", "2026-10-31T10:00:00")
    await world.activity(e, c, "post_created", "2026-10-01T00:00:00")
    await world.activity(e, c, "post_created", "2026-11-01T00:00:00")
    await world.activities(banned, c, "talk_given", "2026-10-31T10:00:00", 5)
    async with session_scope() as session:
        report = await influence(session, c, date(2026, 10, 1), date(2026, 10, 31), 10,
                                 limit=3)
        program = await influence(session, None, date(2026, 10, 1), date(2026, 10, 31), 10)
    assert [(m.rank, m.name, m.score, m.activities, m.ring) for m in report.members] == [
        (1, "a", 10.5, 2, "core"), (2, "b", 3.25, 2, "core"), (3, "c", 2.0, 1, "regular")]
    assert report.total_members == 5
    assert report.ring_counts == {"core": 2, "regular": 2, "casual": 1}
    assert report.kind_weights["talk_given"] == 10.0 and report.half_life_days == 10
    assert [(m.name, m.ring) for m in program.members][3:] == [("d", "regular"),
                                                             ("e", "casual")]


def test_onion_edges():
    assert onion([]) == []
    assert onion([5.0]) == ["core"]
    # Shares above: 0, 0.8, 0.95 -> the member at exactly 80% above is a regular.
    assert onion([80.0, 15.0, 5.0]) == ["core", "regular", "casual"]
