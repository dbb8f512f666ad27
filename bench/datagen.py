"""Synthetic data, loaded fast with COPY: communities in many time zones, members and advocates
with a skewed activity level (a few heavy members hit the caps), tiers with multipliers and a few
active points rules, some capped per day, week or month, one filtered by community."""

import asyncio
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import asyncpg

from bench.config import Sizes
from shared.activity_queue import ENQUEUE_UNQUEUED_SQL

TIMEZONES = ["UTC", "Europe/Berlin", "Europe/London", "America/New_York", "America/Los_Angeles",
             "America/Sao_Paulo", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney",
             "Africa/Lagos", "Pacific/Auckland", "America/Anchorage"]

# kind -> share of all activities
KIND_WEIGHTS = {
    "event_attended": 30, "post_created": 20, "question_answered": 20, "content_published": 8,
    "feedback_submitted": 7, "mentoring_session": 5, "talk_given": 3, "event_hosted": 3,
    "beta_feedback": 2, "referral_converted": 2,
}

# (name, activity kind, points, cap or None, share of communities it is limited to or None)
POINTS_RULES = [
    ("Event attendance", "event_attended", 10, {"max": 1, "per": "day"}, None),
    ("Talks", "talk_given", 100, {"max": 2, "per": "week"}, None),
    ("Published content", "content_published", 50, None, None),
    ("Answers", "question_answered", 5, {"max": 3, "per": "day"}, None),
    ("Posts", "post_created", 2, {"max": 15, "per": "month"}, None),
    ("Mentoring in pilot chapters", "mentoring_session", 30, None, 0.1),
    ("Feedback", "feedback_submitted", 3, None, None),
]

# (name, min lifetime points, multiplier)
TIERS = [("Bronze", 0, Decimal("1.000")), ("Silver", 500, Decimal("1.100")),
         ("Gold", 2_000, Decimal("1.250")), ("Platinum", 5_000, Decimal("1.500"))]

# Activities happen over the 60 days before the bench runs; rules have been in force since long
# before (an activity is scored by the rule version in force when it was received).
HISTORY_DAYS = 60
RULES_SINCE = datetime(2020, 1, 1, tzinfo=UTC)

ACTIVITY_COLUMNS = ["member_id", "community_id", "kind", "occurred_at", "source", "external_id",
                    "properties", "local_day", "local_week", "local_month", "received_at"]


@dataclass
class BaseData:
    community_zones: list[ZoneInfo]  # index i is community id i + 1
    member_count: int
    advocate_member_ids: list[int]  # advocate id i + 1 is member advocate_member_ids[i]
    tier_ids: dict[str, int]
    incentive_ids: list[int] = field(default_factory=list)

    @property
    def community_count(self) -> int:
        return len(self.community_zones)


async def _copy(conn: asyncpg.Connection, table: str, columns: list[str],
                rows: list[tuple]) -> None:
    await conn.copy_records_to_table(table, records=rows, columns=columns)


async def _sync_sequence(conn: asyncpg.Connection, table: str) -> None:
    await conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                       f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)")


async def load_base(conn: asyncpg.Connection, sizes: Sizes, *, seed: int = 42,
                    with_rules: bool = True) -> BaseData:
    """Communities, members, advocates (a random half of the members, mostly active), tiers and,
    with `with_rules`, the points rules. Ids are 1..n in each table."""
    rng = random.Random(seed)
    now = datetime.now(UTC)

    zones = [ZoneInfo(TIMEZONES[i % len(TIMEZONES)]) for i in range(sizes.communities)]
    await _copy(conn, "community",
                ["id", "name", "slug", "kind", "city", "country", "timezone", "description", "tags",
                 "code_of_conduct_url", "status", "created_at", "updated_at"],
                [(i + 1, f"Community {i + 1}", f"community-{i + 1}",
                  ("online", "offline", "hybrid")[i % 3], f"City {i % 97}", "DE", zones[i].key,
                  None, "[]", "https://example.org/coc", "active", now, now)
                 for i in range(sizes.communities)])

    members = []
    for i in range(sizes.members):
        # 1% suspended: they earn nothing while so.
        status = "suspended" if rng.random() < 0.01 else "active"
        email = f"member{i + 1}@example.org"
        members.append((i + 1, f"Member {i + 1}", email, email, f"m{i + 1}", "DE", None, "[]",
                        status, False, None, None, now, now))
    await _copy(conn, "member",
                ["id", "name", "email", "email_key", "handle", "country", "timezone", "interests",
                 "status", "is_test", "referred_by_code", "erased_at", "created_at", "updated_at"],
                members)

    await _copy(conn, "tier", ["id", "name", "min_lifetime_points", "perks", "multiplier",
                               "created_at"],
                [(i + 1, name, floor, json.dumps([f"{name} perk"]), mult, now)
                 for i, (name, floor, mult) in enumerate(TIERS)])
    tier_ids = {name: i + 1 for i, (name, _, _) in enumerate(TIERS)}

    advocate_member_ids = sorted(rng.sample(range(1, sizes.members + 1),
                                            min(sizes.advocates, sizes.members)))
    await _copy(conn, "advocate",
                ["id", "member_id", "status", "balance", "lifetime_points", "tier_id",
                 "referral_code", "enrolled_at", "updated_at"],
                [(i + 1, member_id, "paused" if rng.random() < 0.03 else "active", 0, 0,
                  tier_ids["Bronze"], f"B{i + 1:07d}", now, now)
                 for i, member_id in enumerate(advocate_member_ids)])

    base = BaseData(zones, sizes.members, advocate_member_ids, tier_ids)
    if with_rules:
        base.incentive_ids = await _load_rules(conn, sizes, now)
    for table in ("community", "member", "tier", "advocate", "incentive", "incentive_version"):
        await _sync_sequence(conn, table)
    return base


async def _load_rules(conn: asyncpg.Connection, sizes: Sizes, now: datetime) -> list[int]:
    incentives, versions = [], []
    for i, (name, kind, points, cap, community_share) in enumerate(POINTS_RULES):
        terms: dict = {}
        if cap:
            terms["cap"] = cap
        if community_share:
            terms["community_ids"] = list(range(1, max(1, int(sizes.communities
                                                              * community_share)) + 1))
        incentives.append((i + 1, name, "points_rule", "active", 1, RULES_SINCE, RULES_SINCE))
        versions.append((i + 1, i + 1, 1, kind, points, json.dumps(terms), None, None,
                         RULES_SINCE, None, None))
    await _copy(conn, "incentive", ["id", "name", "kind", "status", "version", "created_at",
                                    "updated_at"], incentives)
    await _copy(conn, "incentive_version",
                ["id", "incentive_id", "version", "activity_kind", "points", "terms", "starts_at",
                 "ends_at", "effective_from", "effective_to", "created_by_id"], versions)
    return [row[0] for row in incentives]


def activity_json(record: tuple) -> dict:
    """An activity record as an integration sends it to the api."""
    return {"member_id": record[0], "community_id": record[1], "kind": record[2],
            "occurred_at": record[3].isoformat(), "source": record[4], "external_id": record[5],
            "properties": {}}


def generate_activities(base: BaseData, count: int, *, source: str, seed: int = 7,
                        chunk: int = 50_000,
                        received_at: datetime | None = None) -> Iterator[list[tuple]]:
    """`count` activities in chunks of COPY records (ACTIVITY_COLUMNS) with the calendar buckets
    the api derives. Member activity is skewed (index ~ u^1.5): the most active member does
    about twenty things a day, a typical one a few a week, as in real communities; caps bite."""
    rng = random.Random(seed)
    received_at = received_at or datetime.now(UTC)
    kinds = list(KIND_WEIGHTS)
    weights = [KIND_WEIGHTS[k] for k in kinds]
    end = int(datetime.now(UTC).timestamp()) - 300
    span = HISTORY_DAYS * 86_400
    members, communities = base.member_count, base.community_count
    zones = base.community_zones
    zone_index = {zone.key: i for i, zone in enumerate(dict.fromkeys(zones))}
    community_zone = [zone_index[zone.key] for zone in zones]
    # UTC offsets change only on the hour: one lookup per zone and hour, not per activity.
    offsets: dict[tuple[int, int], int] = {}
    buckets: dict[int, tuple[date, date, date]] = {}
    rand = rng.random
    produced = 0
    while produced < count:
        n = min(chunk, count - produced)
        chunk_kinds = rng.choices(kinds, weights=weights, k=n)
        out = []
        for j in range(n):
            member_id = int(members * rand() ** 1.5) + 1
            # Mostly the member's home community, sometimes another one.
            community_id = ((member_id % communities) + 1 if rand() < 0.8
                            else int(communities * rand()) + 1)
            ts = end - int(span * rand())
            key = (community_zone[community_id - 1], ts // 3600)
            offset = offsets.get(key)
            if offset is None:
                zone = zones[community_id - 1]
                at = datetime.fromtimestamp(ts, UTC).astimezone(zone)
                offset = offsets[key] = int(at.utcoffset().total_seconds())
            ordinal = (ts + offset) // 86_400
            days = buckets.get(ordinal)
            if days is None:
                day = date(1970, 1, 1) + timedelta(days=ordinal)
                days = buckets[ordinal] = (day, day - timedelta(days=day.weekday()),
                                           day.replace(day=1))
            out.append((member_id, community_id, chunk_kinds[j], datetime.fromtimestamp(ts, UTC),
                        source, f"{source}-{produced + j:08d}", "{}", days[0], days[1], days[2],
                        received_at))
        produced += n
        yield out


async def copy_activities(conn: asyncpg.Connection, records: list[tuple]) -> None:
    await conn.copy_records_to_table("activity", columns=ACTIVITY_COLUMNS, records=records)


async def load_activities(conn: asyncpg.Connection, chunks: Iterator[list[tuple]]) -> int:
    """COPYs generated activities, making the next chunk in a thread while PostgreSQL takes the
    current one. The generated rows reference only rows that exist, so the load skips the
    foreign-key triggers (session_replication_role, superuser): they would double its time. The
    activities are queued for the reward calculation in the same transaction."""
    def next_chunk() -> list[tuple] | None:
        return next(chunks, None)

    loaded = 0
    async with conn.transaction():
        await conn.execute("SET LOCAL session_replication_role = replica")
        pending = asyncio.create_task(asyncio.to_thread(next_chunk))
        while (chunk := await pending) is not None:
            pending = asyncio.create_task(asyncio.to_thread(next_chunk))
            await copy_activities(conn, chunk)
            loaded += len(chunk)
        # COPY bypasses shared.activity_queue: queue them as the worker's sweep would.
        await conn.execute(ENQUEUE_UNQUEUED_SQL)
    return loaded
