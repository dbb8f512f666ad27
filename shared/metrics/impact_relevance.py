"""Relevance and impact per community (DESIGN.md section 4): two 0-100 axes of a quadrant chart.

Relevance is how much of a community's activity matches the program's focus; impact is what it
moves locally, per member. Impact's inputs are rates of very different sizes (a share, people
per event, items per member), so each is scaled by the best value among the communities compared:
the strongest community on an input scores 1 on it, and the weights say how much each counts."""

from collections.abc import Iterable, Sequence
from datetime import date

from sqlmodel.ext.asyncio.session import AsyncSession

from shared.metrics import queries
from shared.metrics.queries import Scope, Window, count_of
from shared.metrics.schemas import (
    ImpactRelevanceInputs,
    ImpactRelevanceItem,
    ImpactRelevanceReport,
    ImpactRelevanceWeights,
    Quadrant,
)
from shared.models import Community
from shared.settings import Settings

# Which activity kinds are the per-member outputs of impact.
OUTPUT_KINDS = {"content": ["content_published"], "talks": ["talk_given"],
                "referrals": ["referral_converted"]}
# The weight of each impact input, and the rate it weighs.
WEIGHTED_RATES = {"conversion": "conversion_rate", "attendance": "attendance_per_event",
                  "content": "content_per_member", "talks": "talks_per_member",
                  "referrals": "referrals_per_member"}
# Both axes split at the middle of the scale.
SPLIT = 50.0

FORMULA = (
    "relevance = 100 * focus activities / activities. "
    "impact = 100 * sum(weight_i * rate_i / highest rate_i among the communities compared) "
    "/ sum(weights), over the rates conversion (new members active in the period / new "
    "members), attendance per event, and content, talks and referrals per member (members, or "
    "active members when more)."
)
EXPLANATION = (
    "Relevance: the share of the community's activity in the program's focus kinds or topics "
    "(an activity's `topic` property). Impact: what the community moves locally, scored against "
    "the strongest community on each input, so a score compares communities in this report. "
    "Quadrants split both axes at 50. Banned, test and staff accounts are left out."
)


def program_weights(settings: Settings, **overrides: float | None) -> ImpactRelevanceWeights:
    """The weights from settings (`HEARTH_IMPACT_WEIGHT_*`), each replaced by an override that
    is not None. Raises pydantic's ValidationError for negative or all-zero weights."""
    weights = {name: getattr(settings, f"impact_weight_{name}") for name in WEIGHTED_RATES}
    weights.update({name: value for name, value in overrides.items() if value is not None})
    return ImpactRelevanceWeights(**weights)


async def impact_relevance(
    session: AsyncSession, start: date, end: date, weights: ImpactRelevanceWeights, *,
    focus_kinds: Sequence[str] | None = None, focus_topics: Sequence[str] = (),
    community_ids: Iterable[int] | None = None,
) -> ImpactRelevanceReport:
    """Every community (or those of `community_ids`), in id order. Focus kinds default to the
    content kinds."""
    window = Window.of_dates(start, end)
    await queries.tune_for_reports(session)
    focus = sorted(focus_kinds if focus_kinds is not None
                   else await queries.content_kinds(session))
    ids = await queries.community_ids(session, community_ids)
    scope = Scope(None if community_ids is None else tuple(ids))
    names = await queries.names_of(session, Community, ids)
    memberships = await queries.membership_totals(session, scope, window)
    activities = await queries.activity_totals(
        session, scope, window, counted_kinds=OUTPUT_KINDS,
        focus_kinds=focus, focus_topics=focus_topics)
    events = await queries.event_totals(session, scope, window)
    converted = await queries.converted_new_members(session, scope, window)
    inputs = {key: _inputs(memberships.get(key), activities.get(key), events.get(key),
                           converted.get(key)) for key in ids}
    best = {rate: max((getattr(i, rate) for i in inputs.values()), default=0.0)
            for rate in WEIGHTED_RATES.values()}
    items = []
    for key in ids:
        impact = _impact(inputs[key], best, weights)
        relevance = round(100 * _ratio(inputs[key].focus_activities, inputs[key].activities), 1)
        items.append(ImpactRelevanceItem(
            community_id=key, name=names[key], impact=impact, relevance=relevance,
            quadrant=quadrant(impact, relevance), inputs=inputs[key]))
    return ImpactRelevanceReport(start=start, end=end, focus_kinds=focus,
                                 focus_topics=sorted(focus_topics), weights=weights,
                                 formula=FORMULA, explanation=EXPLANATION, items=items)


def quadrant(impact: float, relevance: float) -> Quadrant:
    impact_side = "high" if impact >= SPLIT else "low"
    relevance_side = "high" if relevance >= SPLIT else "low"
    return Quadrant(f"{impact_side}-impact-{relevance_side}-relevance")


def _ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def _inputs(membership, activity, event, converted) -> ImpactRelevanceInputs:
    members = count_of(membership, "members")
    active = count_of(activity, "active_members")
    size = max(members, active)
    new_members = count_of(membership, "new_members")
    counts = {label: count_of(activity, label) for label in OUTPUT_KINDS}
    return ImpactRelevanceInputs(
        members=members, active_members=active, size=size,
        activities=count_of(activity, "activities"), focus_activities=count_of(activity, "focus"),
        new_members=new_members, new_members_active=count_of(converted, "converted"),
        events=count_of(event, "events"), attendance=count_of(event, "attendance"), **counts,
        conversion_rate=round(_ratio(count_of(converted, "converted"), new_members), 4),
        attendance_per_event=round(_ratio(count_of(event, "attendance"), count_of(event, "events")),
                                   4),
        **{f"{label}_per_member": round(_ratio(count, size), 4)
           for label, count in counts.items()},
    )


def _impact(inputs: ImpactRelevanceInputs, best: dict[str, float],
            weights: ImpactRelevanceWeights) -> float:
    weighted = sum(getattr(weights, weight) * _ratio(getattr(inputs, rate), best[rate])
                   for weight, rate in WEIGHTED_RATES.items())
    return round(100 * weighted / weights.total(), 1)
