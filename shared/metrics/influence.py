"""Influence (DESIGN.md section 4): Orbit-style weighted activity with exponential time decay,
and the CHAOSS onion: core, regular and casual members by their cumulative share of it."""

from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.metrics import queries
from shared.metrics.queries import Scope, Window
from shared.metrics.schemas import InfluenceMember, InfluenceReport, InfluenceRing
from shared.models import Member

# What an activity of each kind weighs: the effort it takes and what it gives others. A kind
# added later weighs DEFAULT_KIND_WEIGHT until it is listed here.
KIND_WEIGHTS: dict[str, float] = {
    "talk_given": 10.0,
    "event_hosted": 8.0,
    "content_published": 6.0,
    "mentoring_session": 5.0,
    "referral_converted": 5.0,
    "question_answered": 3.0,
    "beta_feedback": 3.0,
    "event_attended": 2.0,
    "post_created": 1.0,
    "feedback_submitted": 1.0,
}
DEFAULT_KIND_WEIGHT = 1.0
# The onion's rings: members in score order until 80% of the total is reached are the core,
# the next 15% the regulars, the last 5% the casual members.
CORE_SHARE = 0.80
REGULAR_SHARE = 0.95

EXPLANATION = (
    "Score = sum over the member's activities in the period of kind weight x 0.5^(age in days / "
    "half-life), age counted from the end date by the activity's local day. Members ranked by "
    "score; the top members making 80% of the total are core, the next 15% regular, the last "
    "5% casual (CHAOSS onion). Banned, test and staff accounts are left out."
)


async def influence(session: AsyncSession, community_id: int | None, start: date, end: date,
                    half_life_days: float, *, limit: int = 100) -> InfluenceReport:
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    scored = await queries.decayed_scores(
        session, Scope.of(community_id), Window.of_dates(start, end), kind_weights=KIND_WEIGHTS,
        default_weight=DEFAULT_KIND_WEIGHT, as_of=end, half_life_days=half_life_days)
    scores = {member_id: score for member_id, (score, _) in scored.items()}
    activities = {member_id: count for member_id, (_, count) in scored.items()}
    ranked = sorted(scores, key=lambda m: (-scores[m], -activities[m], m))
    rings = onion([scores[m] for m in ranked])
    names = await queries.names_of(session, Member, ranked[:limit])
    members = [InfluenceMember(rank=rank, member_id=member_id, name=names[member_id],
                               score=round(scores[member_id], 2),
                               activities=activities[member_id], ring=ring)
               for rank, (member_id, ring) in enumerate(zip(ranked[:limit], rings, strict=False),
                                                        start=1)]
    counts = {ring: rings.count(ring) for ring in InfluenceRing}
    return InfluenceReport(
        community_id=community_id, start=start, end=end, half_life_days=half_life_days,
        kind_weights=KIND_WEIGHTS, default_kind_weight=DEFAULT_KIND_WEIGHT, ring_counts=counts,
        total_members=len(ranked), members=members, explanation=EXPLANATION)


def onion(ordered_scores: list[float]) -> list[InfluenceRing]:
    """The ring of each member, given scores highest first: a member belongs to the ring in
    which the share of the total held by those ranked above them falls."""
    total = sum(ordered_scores)
    rings, above = [], 0.0
    for score in ordered_scores:
        share_above = above / total if total else 1.0
        if share_above < CORE_SHARE:
            rings.append(InfluenceRing.core)
        elif share_above < REGULAR_SHARE:
            rings.append(InfluenceRing.regular)
        else:
            rings.append(InfluenceRing.casual)
        above += score
    return rings
