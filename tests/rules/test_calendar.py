from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from shared.rules.calendar import LocalBuckets, local_buckets


def test_utc_by_default():
    assert local_buckets(datetime(2026, 11, 20, 23, 30, tzinfo=UTC)) == LocalBuckets(
        date(2026, 11, 20), date(2026, 11, 16), date(2026, 11, 1))


def test_the_community_time_zone_decides_the_day():
    # 23:30 UTC on Monday 30 November is already Tuesday 1 December in Berlin (UTC+1).
    at = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert local_buckets(at, "Europe/Berlin") == LocalBuckets(
        date(2026, 12, 1), date(2026, 11, 30), date(2026, 12, 1))
    assert local_buckets(at, "America/Los_Angeles") == LocalBuckets(
        date(2026, 11, 30), date(2026, 11, 30), date(2026, 11, 1))


def test_offset_of_the_input_does_not_matter():
    plus_one = timezone(timedelta(hours=1))
    assert (local_buckets(datetime(2026, 11, 20, 0, 30, tzinfo=plus_one), "Asia/Tokyo")
            == local_buckets(datetime(2026, 11, 19, 23, 30, tzinfo=UTC), "Asia/Tokyo"))


def test_iso_week_starts_on_monday_across_a_year_boundary():
    buckets = local_buckets(datetime(2027, 1, 2, 12, tzinfo=UTC))  # a Saturday
    assert buckets.week == date(2026, 12, 28) and buckets.month == date(2027, 1, 1)


def test_daylight_saving_change():
    # Berlin leaves summer time on 25 October 2026: 22:30 UTC on the 25th is 23:30 local.
    assert local_buckets(datetime(2026, 10, 25, 22, 30, tzinfo=UTC), "Europe/Berlin").day == \
        date(2026, 10, 25)
    assert local_buckets(datetime(2026, 10, 24, 22, 30, tzinfo=UTC), "Europe/Berlin").day == \
        date(2026, 10, 25)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="offset"):
        local_buckets(datetime(2026, 11, 20, 12))
