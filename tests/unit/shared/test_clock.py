"""Moments are written one way, so that times compare as strings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from gears_shared.clock import normal_iso, utc_iso


def test_a_moment_is_utc_with_milliseconds_and_z_whatever_its_zone() -> None:
    assert utc_iso(datetime(2026, 11, 28, 9, 5, 7, 123456, tzinfo=UTC)) == "2026-11-28T09:05:07.123Z"
    assert utc_iso(datetime(2026, 11, 28, 10, 5, 7, tzinfo=timezone(timedelta(hours=1)))) == "2026-11-28T09:05:07.000Z"
    assert utc_iso(datetime(2026, 11, 28, 9, 5, 7)) == "2026-11-28T09:05:07.000Z"  # no zone: UTC


def test_event_times_written_differently_compare_as_the_moments_they_are() -> None:
    times = ["2026-11-28T09:05:07Z", "2026-11-28T10:05:07.5+01:00", "2026-11-28T09:05:07.250"]
    assert [normal_iso(t) for t in times] == [
        "2026-11-28T09:05:07.000Z",
        "2026-11-28T09:05:07.500Z",
        "2026-11-28T09:05:07.250Z",
    ]
    assert sorted(times, key=normal_iso) == [times[0], times[2], times[1]]
