"""The engagement report against a world counted by hand (see `world_of_october`)."""

from datetime import date

import pytest

from shared.db import session_scope
from shared.metrics.engagement import engagement, engagement_for_communities
from tests.metrics import world

OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))


@pytest.fixture
async def october() -> dict:
    return await world.october()


def _tops(members) -> list[tuple[str, int, int]]:
    return [(m.name, m.points, m.activities) for m in members]


async def test_one_community_field_by_field(october):
    async with session_scope() as session:
        report = await engagement(session, october["a"], *OCTOBER)
    assert report.community_id == october["a"]
    assert (report.start, report.end) == OCTOBER
    assert report.members == 3
    assert report.new_members == 2
    assert report.active_members == 3
    assert report.active_posters == 2
    assert report.activities == 6
    assert (report.events, report.attendance) == (2, 3)
    assert (report.feedback_count, report.mean_rating) == (3, 4.5)
    assert report.median_first_response_hours == 6.0
    assert _tops(report.top_members) == [("Ada", 100, 3), ("Bob", 30, 2)]
    assert _tops(report.top_members_by_activity) == [("Ada", 100, 3), ("Bob", 30, 2),
                                                     ("Dee", 0, 1)]
    assert "UTC" in report.explanation


async def test_whole_program_counts_each_person_once(october):
    async with session_scope() as session:
        report = await engagement(session, None, *OCTOBER)
    assert report.community_id is None
    # Ada joined A in September, so joining B in October does not make her new to the program.
    assert (report.members, report.new_members) == (3, 2)
    assert (report.active_members, report.active_posters, report.activities) == (3, 2, 7)
    assert (report.events, report.attendance, report.feedback_count) == (2, 3, 3)
    # Dee's points came with no activity: they count for the program, for no community.
    assert _tops(report.top_members) == [("Ada", 100, 4), ("Dee", 40, 1), ("Bob", 30, 2)]


async def test_a_quiet_community_reports_zeros(october):
    async with session_scope() as session:
        report = await engagement(session, october["b"], *OCTOBER)
    assert (report.members, report.new_members, report.active_members) == (1, 1, 1)
    assert (report.events, report.attendance, report.feedback_count) == (0, 0, 0)
    assert report.mean_rating is None and report.median_first_response_hours is None
    assert report.top_members == []
    assert _tops(report.top_members_by_activity) == [("Ada", 0, 1)]


async def test_many_communities_match_one_by_one(october):
    async with session_scope() as session:
        reports = await engagement_for_communities(session, *OCTOBER)
        singles = [await engagement(session, c, *OCTOBER) for c in (october["a"], october["b"])]
        chosen = await engagement_for_communities(session, *OCTOBER,
                                                  community_ids=[october["b"], 999])
    assert reports == singles
    assert chosen == singles[1:]


async def test_period_edges_are_utc_dates(october):
    async with session_scope() as session:
        november = await engagement(session, october["a"], date(2026, 11, 1), date(2026, 11, 1))
        last_day = await engagement(session, october["a"], date(2026, 10, 31),
                                    date(2026, 10, 31))
    # Nov 1 00:00 UTC: Cy's post and Dee's membership; Bob's +09:00 session was Oct 31 in UTC.
    assert (november.active_members, november.activities) == (1, 1)
    assert (november.members, november.new_members) == (4, 1)
    assert november.events == 1
    # Oct 31: Ada's talk at 23:59:59 and Bob's session at 23:30 UTC; Cy's membership at 23:59:59.
    assert (last_day.active_members, last_day.activities, last_day.new_members) == (2, 2, 1)


async def test_only_excluded_members_leave_nothing_to_count():
    c = await world.community()
    banned = await world.member(status="banned")
    tester = await world.member(is_test=True)
    staff = await world.member(email="lead@example.org")
    await world.staff_user("LEAD@example.org")
    for m in (banned, tester, staff):
        await world.join(m, c, "2026-10-02T10:00:00")
        await world.activity(m, c, "talk_given", "2026-10-05T10:00:00")
        await world.points(m, 10, "2026-10-05T10:00:00")
    async with session_scope() as session:
        report = await engagement(session, c, *OCTOBER)
        program = await engagement(session, None, *OCTOBER)
    for r in (report, program):
        assert (r.members, r.new_members, r.active_members, r.activities) == (0, 0, 0, 0)
        assert r.top_members == r.top_members_by_activity == []
