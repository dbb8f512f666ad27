"""The health score against hand-counted activity in two 90-day windows up to 2026-10-31:
the current one from 2026-08-03, the previous one from 2026-05-05 to 2026-08-02."""

from datetime import date

import pytest

from shared.db import session_scope
from shared.metrics.health import absence_factor, health, health_for_communities
from tests.metrics import world

AS_OF = date(2026, 10, 31)


async def _health(community_id: int, as_of: date = AS_OF):
    async with session_scope() as session:
        return await health(session, community_id, as_of)


def _values(report) -> dict:
    return {name: (c.value, c.score) for name, c in report.components.items()}


async def test_components_and_weighted_score():
    c = await world.community(code_of_conduct_url="https://example.org/coc")
    a, b, cc, d = [await world.member() for _ in range(4)]
    banned = await world.member(status="banned")
    await world.join(a, c, "2026-01-01T00:00:00", role="organiser")
    await world.join(banned, c, "2026-01-01T00:00:00", role="organiser")
    await world.activities(a, c, "post_created", "2026-06-10T10:00:00", 2)
    await world.activities(b, c, "post_created", "2026-05-05T00:00:00", 2)
    await world.activity(cc, c, "post_created", "2026-08-02T23:59:59")
    await world.activities(a, c, "post_created", "2026-08-03T00:00:00", 6)
    await world.activity(b, c, "post_created", "2026-10-31T23:59:59")
    await world.activity(d, c, "post_created", "2026-09-15T10:00:00")
    await world.activity(d, c, "post_created", "2026-11-01T00:00:00")
    await world.activities(banned, c, "post_created", "2026-09-15T10:00:00", 10)
    for hours in (12, 48, 200):
        await world.feedback(a, c, "2026-09-01T10:00:00", response_after_hours=hours)
    await world.feedback(a, c, "2026-05-01T10:00:00", response_after_hours=1000)

    report = await _health(c)
    assert _values(report) == {
        "activity_trend": (1.6, 100.0),                 # 8 activities now, 5 before
        "retention": (0.6667, 66.7),                    # a and b of a, b, cc
        "contributor_absence_factor": (1.0, 20.0),      # a's 6 of 8
        "organisers": (1.0, 50.0),                      # the banned organiser does not count
        "code_of_conduct": (1.0, 100.0),
        "responsiveness": (48.0, 83.3),                 # median of 12, 48, 200 hours
    }
    assert sum(c.weight for c in report.components.values()) == pytest.approx(1.0)
    # 100*.2 + 66.7*.2 + 20*.15 + 50*.15 + 100*.1 + 83.3*.2
    assert report.score == 70.5
    assert all(c.explanation for c in report.components.values())


async def test_no_data_components_are_left_out_of_the_score():
    c = await world.community()
    m = await world.member()
    await world.activities(m, c, "post_created", "2026-10-01T10:00:00", 3)
    report = await _health(c)
    assert _values(report) == {
        "activity_trend": (2.0, 100.0),                 # woke up from nothing
        "retention": (None, 0.0),
        "contributor_absence_factor": (1.0, 20.0),
        "organisers": (0.0, 0.0),
        "code_of_conduct": (0.0, 0.0),
        "responsiveness": (None, 0.0),
    }
    # (100*.2 + 20*.15) / (.2 + .15 + .15 + .1)
    assert report.score == 38.3
    assert "left out" in report.components["retention"].explanation
    empty = await _health(await world.community())
    assert empty.score == 0.0 and empty.components["activity_trend"].value == 0.0


async def test_unanswered_feedback_counts_its_wait_up_to_as_of():
    c = await world.community()
    m = await world.member()
    await world.feedback(m, c, "2026-10-30T00:00:00")                     # 48 h unanswered
    await world.feedback(m, c, "2026-10-31T00:00:00", response_after_hours=100)  # 24 h by then
    await world.feedback(m, c, "2026-10-31T12:00:00", response_after_hours=1)
    report = await _health(c)
    assert report.components["responsiveness"].value == 24.0


async def test_many_communities_at_once_equal_each_alone():
    """Members active in several communities, and activity tied to none, are counted in each
    community apart; a missing community is left out."""
    busy = await world.community(code_of_conduct_url="https://example.org/coc")
    quiet = await world.community()
    empty = await world.community()
    a, b, cc = [await world.member() for _ in range(3)]
    for m in (a, b):
        await world.join(m, busy, "2026-01-01T00:00:00", role="organiser")
    await world.join(cc, quiet, "2026-01-01T00:00:00", role="organiser")
    await world.activities(a, busy, "post_created", "2026-06-01T10:00:00", 4)
    await world.activities(b, busy, "post_created", "2026-06-01T10:00:00", 2)
    await world.activities(a, busy, "post_created", "2026-09-01T10:00:00", 3)
    await world.activities(cc, busy, "post_created", "2026-09-01T10:00:00", 3)
    await world.activities(b, busy, "post_created", "2026-09-01T10:00:00", 3)
    await world.activities(a, quiet, "post_created", "2026-07-01T10:00:00", 2)
    await world.activities(b, quiet, "post_created", "2026-10-01T10:00:00", 5)
    await world.activities(a, None, "post_created", "2026-10-01T10:00:00", 7)
    await world.feedback(a, busy, "2026-09-01T10:00:00", response_after_hours=30)
    await world.feedback(b, quiet, "2026-10-30T00:00:00")

    async with session_scope() as session:
        together = await health_for_communities(session, [empty, 999, quiet, busy], AS_OF)
        alone = [await health(session, c, AS_OF) for c in (busy, quiet, empty)]
        with pytest.raises(LookupError):
            await health(session, 999, AS_OF)
        assert await health_for_communities(session, [], AS_OF) == []
    assert together == alone
    # The communities differ in these components, so the equality above says each got its own.
    for name in ("activity_trend", "contributor_absence_factor", "organisers", "responsiveness"):
        assert len({report.components[name].value for report in alone}) == 3, name
    assert _values(alone[1])["retention"] == (0.0, 0.0)    # a left, b is new


def test_absence_factor():
    assert absence_factor([]) == 0
    assert absence_factor([5]) == 1
    assert absence_factor([3, 3, 2, 2]) == 2
    assert absence_factor([1, 1, 1, 1, 1]) == 3
