"""Working hours count only the time inside a team's working days and hours, DST included."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.teams import WorkingHours

BERLIN = WorkingHours.parse("Europe/Berlin", "mon,tue,wed,thu,fri", "09:00", "17:00")
UTC_OFFICE = WorkingHours.parse("UTC", "mon,tue,wed,thu,fri", "09:00", "17:00")


def berlin(*args):
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


def test_a_request_at_friday_1600_is_one_working_hour_old_at_monday_0900():
    friday = berlin(2026, 3, 6, 16, 0)
    monday = berlin(2026, 3, 9, 9, 0)

    assert BERLIN.elapsed(friday, monday) == timedelta(hours=1)


def test_time_outside_working_hours_does_not_count():
    assert BERLIN.elapsed(berlin(2026, 3, 3, 18, 0), berlin(2026, 3, 4, 8, 0)) == timedelta()
    assert BERLIN.elapsed(berlin(2026, 3, 7, 10, 0), berlin(2026, 3, 8, 16, 0)) == timedelta()  # weekend


def test_a_full_week_has_forty_working_hours():
    assert BERLIN.elapsed(berlin(2026, 3, 2, 0, 0), berlin(2026, 3, 9, 0, 0)) == timedelta(hours=40)


def test_the_dst_change_does_not_stretch_a_working_day():
    # Europe/Berlin springs forward on Sunday 2026-03-29; Monday is an ordinary 8-hour day.
    assert BERLIN.elapsed(berlin(2026, 3, 27, 17, 0), berlin(2026, 3, 30, 17, 0)) == timedelta(hours=8)


def test_adding_working_time_skips_nights_and_weekends():
    friday_1600 = berlin(2026, 3, 6, 16, 0)

    assert BERLIN.add(friday_1600, timedelta(hours=2)) == berlin(2026, 3, 9, 10, 0)


def test_adding_zero_outside_hours_gives_the_next_opening():
    saturday = berlin(2026, 3, 7, 12, 0)

    assert BERLIN.next_working_moment(saturday) == berlin(2026, 3, 9, 9, 0)
    assert BERLIN.next_working_moment(berlin(2026, 3, 9, 11, 0)) == berlin(2026, 3, 9, 11, 0)


@pytest.mark.parametrize("moment, working", [
    (datetime(2026, 3, 2, 8, 59, tzinfo=UTC), False),
    (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), True),
    (datetime(2026, 3, 2, 16, 59, tzinfo=UTC), True),
    (datetime(2026, 3, 2, 17, 0, tzinfo=UTC), False),
    (datetime(2026, 3, 7, 12, 0, tzinfo=UTC), False),
])
def test_is_working(moment, working):
    assert UTC_OFFICE.is_working(moment) is working
