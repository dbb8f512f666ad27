"""Calendar buckets for caps per day, ISO week and month, in a community's time zone."""

from datetime import date, datetime
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

UTC_ZONE = "UTC"


class LocalBuckets(NamedTuple):
    day: date
    week: date  # the Monday of the ISO week
    month: date  # the first of the month


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_buckets(occurred_at: datetime, time_zone: str = UTC_ZONE) -> LocalBuckets:
    """The local day, week and month an aware `occurred_at` falls in, seen from `time_zone`
    (an IANA name). Activities without a community use UTC."""
    if occurred_at.tzinfo is None:
        raise ValueError("occurred_at must carry a UTC offset")
    day = occurred_at.astimezone(_zone(time_zone)).date()
    return LocalBuckets(day, date.fromordinal(day.toordinal() - day.weekday()), day.replace(day=1))
