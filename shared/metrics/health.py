"""A community's health score (DESIGN.md section 4): a weighted mean of six components, each
scored 0-100, over the 90 days up to `as_of` compared with the 90 days before."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.metrics import queries
from shared.metrics.queries import Scope, Window, count_of
from shared.metrics.schemas import HealthComponent, HealthReport
from shared.models import Community
from shared.models.base import utcnow

PERIOD_DAYS = 90
# Answers within a day score full marks; a week or more scores nothing.
RESPONSE_GOOD_HOURS = 24.0
RESPONSE_BAD_HOURS = 168.0
# Five members carrying half the activity is resilient enough to score full marks.
ABSENCE_FACTOR_FULL = 5


@dataclass(frozen=True)
class Rule:
    weight: float
    explanation: str
    score: Callable[[float], float]


def _trend_score(ratio: float) -> float:
    return min(100.0, 100 * ratio)


def _response_score(hours: float) -> float:
    if hours <= RESPONSE_GOOD_HOURS:
        return 100.0
    return max(0.0, 100 * (RESPONSE_BAD_HOURS - hours) / (RESPONSE_BAD_HOURS - RESPONSE_GOOD_HOURS))


RULES: dict[str, Rule] = {
    "activity_trend": Rule(0.2, "Activities in the last 90 days / the 90 before. Holding steady "
                                "or growing scores 100; a fall scores the share kept.",
                           _trend_score),
    "retention": Rule(0.2, "Share of the members active in the previous 90 days who were active "
                           "again in the last 90. Score = 100 x share.",
                      lambda share: 100 * share),
    "contributor_absence_factor": Rule(
        0.15, "Fewest members making 50% of the last 90 days' activity. Score = 20 per member, "
              "full at 5: activity that rests on one person is fragile.",
        lambda factor: min(100.0, 100 * factor / ABSENCE_FACTOR_FULL)),
    "organisers": Rule(0.15, "Members with the organiser role. Two or more score 100, one 50.",
                       lambda n: 100.0 if n >= 2 else 50.0 * n),
    "code_of_conduct": Rule(0.1, "1 when the community links a code of conduct.",
                            lambda present: 100.0 * present),
    "responsiveness": Rule(0.2, "Median hours to the first staff response on the last 90 days' "
                                "feedback, unanswered feedback counted with the hours it has "
                                "waited. Within 24 h scores 100, a week or more 0.",
                           _response_score),
}

EXPLANATION = (
    "Health = the weighted mean of the component scores (0-100). Components without data (no "
    "one active in the previous period, no feedback) are left out and the other weights count "
    "in full. Banned, test and staff accounts are left out."
)


async def health(session: AsyncSession, community_id: int, as_of: date) -> HealthReport:
    reports = await health_for_communities(session, [community_id], as_of)
    if not reports:
        raise LookupError(f"community {community_id} does not exist")
    return reports[0]


async def health_for_communities(
    session: AsyncSession, community_ids: Iterable[int], as_of: date
) -> list[HealthReport]:
    """A report per community of `community_ids` that exists, in id order, from the same
    handful of queries whatever their number."""
    wanted = list(community_ids)
    rows = await session.exec(select(Community.id, Community.code_of_conduct_url)
                              .where(col(Community.id).in_(wanted)).order_by(Community.id))
    code_of_conduct = dict(rows.all())
    if not code_of_conduct:
        return []
    scope = Scope(tuple(code_of_conduct))
    current = Window.of_dates(as_of - timedelta(days=PERIOD_DAYS - 1), as_of)
    previous = Window.of_dates(as_of - timedelta(days=2 * PERIOD_DAYS - 1),
                               as_of - timedelta(days=PERIOD_DAYS))
    await queries.tune_for_reports(session)
    now_active = await queries.activity_by_member(session, scope, current)
    before = await queries.activity_by_member(session, scope, previous)
    organisers = await queries.organiser_counts(session, scope, current.until)
    waited = await queries.first_response_hours(session, scope, current,
                                                waiting_until=min(current.until, utcnow()))
    reports = []
    for community_id, code_of_conduct_url in code_of_conduct.items():
        now, then = now_active.get(community_id, {}), before.get(community_id, {})
        reports.append(_report(community_id, as_of, {
            "activity_trend": _trend(sum(now.values()), sum(then.values())),
            "retention": len(then.keys() & now.keys()) / len(then) if then else None,
            "contributor_absence_factor": float(absence_factor(now.values())),
            "organisers": float(count_of(organisers.get(community_id), "organisers")),
            "code_of_conduct": 1.0 if code_of_conduct_url else 0.0,
            "responsiveness": queries.median(waited.get(community_id)),
        }))
    return reports


def _report(community_id: int, as_of: date, values: dict[str, float | None]) -> HealthReport:
    components = {name: _component(RULES[name], value) for name, value in values.items()}
    scored = [c for c in components.values() if c.value is not None]
    total_weight = sum(c.weight for c in scored)
    score = sum(c.score * c.weight for c in scored) / total_weight if total_weight else 0.0
    return HealthReport(community_id=community_id, as_of=as_of, score=round(score, 1),
                        components=components, explanation=EXPLANATION)


def _trend(current: int, previous: int) -> float:
    """current / previous; a community that woke up from nothing counts as doubling."""
    if previous:
        return round(current / previous, 4)
    return 2.0 if current else 0.0


def absence_factor(counts) -> int:
    """The fewest members whose activities make at least half of all (0 with no activity)."""
    ordered = sorted(counts, reverse=True)
    half, running = sum(ordered) / 2, 0
    for members, count in enumerate(ordered, start=1):
        running += count
        if running >= half:
            return members
    return 0


def _component(rule: Rule, value: float | None) -> HealthComponent:
    score = round(rule.score(value), 1) if value is not None else 0.0
    explanation = rule.explanation if value is not None else (
        f"{rule.explanation} No data: left out of the score.")
    return HealthComponent(value=None if value is None else round(value, 4), score=score,
                           weight=rule.weight, explanation=explanation)
